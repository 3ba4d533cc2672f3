package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/routefree/routefree/invoicing/twrules"
)

// The settings read as environment variables only (single sign-on, the
// seller, provider keys, …) may be in the config file too, named as their
// variables, below the environment; a name nothing reads is refused.
func TestConfigFileCarriesEnvironmentSettings(t *testing.T) {
	cleanEnv(t)
	file := writeFile(t, "routefree.env", `ROUTEFREE_OIDC_ISSUER=https://idp.example
ROUTEFREE_SELLER_NAME="設定檔股份有限公司"
ROUTEFREE_SELLER_ADDRESS=臺北市設定檔路1號
OPENAI_API_KEY=sk-from-file
ROUTEFREE_OIDC_SCOPES=email
SHUTDOWN_GRACE=30
# a later line wins
ROUTEFREE_OIDC_SCOPES=email groups
shutdown-grace=45s
`)
	t.Setenv("ROUTEFREE_SELLER_ADDRESS", "臺北市環境路2號")
	c, err := parseServe(t, "--config", file)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"ROUTEFREE_OIDC_ISSUER":    "https://idp.example",
		"ROUTEFREE_SELLER_NAME":    "設定檔股份有限公司",
		"ROUTEFREE_SELLER_ADDRESS": "臺北市環境路2號", // the environment wins
		"OPENAI_API_KEY":           "sk-from-file",
		"ROUTEFREE_OIDC_SCOPES":    "email groups",
		"ROUTEFREE_SAML_SP_KEY":    "",
	} {
		if got := c.Getenv(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if s := sellerFrom(c); s.Name != "設定檔股份有限公司" || s.Address != "臺北市環境路2號" {
		t.Errorf("seller %q at %q", s.Name, s.Address)
	}
	if c.ShutdownGrace != 45*time.Second {
		t.Errorf("shutdown grace %s, want the later line's 45s", c.ShutdownGrace)
	}

	// Misspelt names are refused, by serve and by a command that reads
	// none of these settings alike.
	typo := writeFile(t, "typo.json", `{"ROUTEFREE_OIDC_ISSUR": "https://idp.example", "OPENAI_API_KY": "sk-x", "ROUTEFREE_SSO_ROLES": "groups:a=admin"}`)
	_, err = parseServe(t, "--config", typo)
	fs, pc := newFlags("invoices pdf", io.Discard)
	pdfErr := parse(fs, pc, []string{"--config", typo})
	for _, err := range []error{err, pdfErr} {
		if err == nil || !strings.Contains(err.Error(), `unknown setting "ROUTEFREE_OIDC_ISSUR"`) ||
			!strings.Contains(err.Error(), `unknown setting "OPENAI_API_KY"`) || strings.Contains(err.Error(), "SSO_ROLES") {
			t.Errorf("misspelt names: %v", err)
		}
	}

	// A catalog's own variables are settings, for the commands that do not
	// load it as well: the file names the catalog.
	cat := writeFile(t, "catalog.json", `{"usd_to_ntd": "32.5", "models": [{"id": "acme/one", "name": "One", "context_length": 8192,
		"usd_per_million": {"input": "1", "output": "2"},
		"upstreams": [{"provider": "acme", "kind": "openai", "base_url": "${ACME_BASE_URL:-https://acme.example/v1}", "model": "one", "key_env": "ACME_API_KEY"}]}]}`)
	withCat := writeFile(t, "cat.env", "CATALOG="+cat+"\nACME_API_KEY=sk-acme\nACME_BASE_URL=https://acme.example/v2\n")
	if c, err = parseServe(t, "--config", withCat); err != nil {
		t.Fatal(err)
	}
	if c.Getenv("ACME_API_KEY") != "sk-acme" {
		t.Errorf("ACME_API_KEY = %q", c.Getenv("ACME_API_KEY"))
	}
	fs, pc = newFlags("invoices pdf", io.Discard)
	if err := parse(fs, pc, []string{"--config", withCat}); err != nil {
		t.Errorf("invoices pdf with the catalog's variables: %v", err)
	}
}

// serve signs in through OpenID Connect with the provider named in its
// settings file (JSON, through ROUTEFREE_CONFIG); the scopes the environment
// gives win over the file's, and only they ask for the groups that make the
// person an admin.
func TestServeSingleSignOnFromSettingsFile(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	m.QueueUser(&mockoidc.MockUser{Subject: "staff-7", Email: "lin@routefree.example", EmailVerified: true, Groups: []string{"rf-admins"}})
	oc := m.Config()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	settings, _ := json.Marshal(map[string]string{
		"ROUTEFREE_OIDC_ISSUER": oc.Issuer, "ROUTEFREE_OIDC_CLIENT_ID": oc.ClientID, "ROUTEFREE_OIDC_CLIENT_SECRET": oc.ClientSecret,
		"ROUTEFREE_PUBLIC_URL": "http://" + addr, "ROUTEFREE_OIDC_SCOPES": "email profile",
		"ROUTEFREE_SSO_ROLES": "groups:rf-admins=admin", "data-dir": t.TempDir(),
	})
	env := append(baseEnv("http://127.0.0.1:1/v1"), "ROUTEFREE_CONFIG="+writeFile(t, "routefree.json", string(settings)),
		"ROUTEFREE_OIDC_SCOPES=email profile groups")
	p := startServe(t, env, "--listen", addr)

	jar, _ := cookiejar.New(nil)
	var first *url.URL // where the sign-in sends the browser
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if first == nil {
			first = req.URL
		}
		return nil
	}}
	resp, err := client.Get(p.base + "/console/sso/oidc")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || first == nil {
		t.Fatalf("OIDC sign-in: %d\n%s", resp.StatusCode, body)
	}
	if q := first.Query(); !strings.HasPrefix(first.String(), oc.Issuer) || q.Get("client_id") != oc.ClientID || q.Get("scope") != "openid email profile groups" {
		t.Fatalf("sent to %s", first)
	}
	resp, err = client.Get(p.base + "/admin/api/whoami")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"subject":"oidc:staff-7"`) || !strings.Contains(string(body), `"role":"admin"`) {
		t.Fatalf("whoami after signing in: %d %s", resp.StatusCode, body)
	}
}

// The invoice commands take the seller from the settings file (below the
// environment): an issued invoice's PDF and F0401 carry it. A misspelt
// seller setting stops the command.
func TestInvoicesSellerFromSettingsFile(t *testing.T) {
	dir := t.TempDir()
	env := append(baseEnv("http://127.0.0.1:1/v1"), "ROUTEFREE_DATA_DIR="+dir, "ROUTEFREE_SELLER_ADDRESS=臺北市環境路2號")
	conf := writeFile(t, "routefree.env", `# the seller of the invoices
ROUTEFREE_SELLER_NAME=設定檔股份有限公司
ROUTEFREE_SELLER_TAX_ID=04595257
ROUTEFREE_SELLER_ADDRESS=臺北市設定檔路1號
`)
	runCLI(t, env, "events", "generate", "--events", "40", "--accounts", "1")
	period := twrules.PeriodOf(time.Now()).String()
	runCLI(t, env, "invoices", "range", "--config", conf, "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345099")
	if out := runCLI(t, env, "invoices", "topups", "--config", conf); !strings.Contains(out, "issued 1 top-up invoices") {
		t.Fatalf("topups: %s", out)
	}
	pdf := filepath.Join(dir, "inv.pdf")
	runCLI(t, env, "invoices", "pdf", "--config", conf, "--number", "AB12345000", "--out", pdf)
	text := pdfFileText(t, pdf)
	if !strings.Contains(text, "設定檔股份有限公司") || !strings.Contains(text, "04595257") ||
		!strings.Contains(text, "臺北市環境路2號") || strings.Contains(text, "設定檔路") {
		t.Fatalf("the invoice does not carry the configured seller:\n%s", text)
	}
	zipPath := filepath.Join(dir, "f0401.zip")
	runCLI(t, env, "invoices", "export", "--config", conf, "--period", period, "--out", zipPath)
	if x := zippedText(t, zipPath); !strings.Contains(x, "設定檔股份有限公司") || !strings.Contains(x, "04595257") {
		t.Fatalf("F0401 does not carry the configured seller:\n%s", x)
	}

	typo := writeFile(t, "typo.env", "ROUTEFREE_SELLER_NAM=設定檔股份有限公司\n")
	cmd := exec.Command(binary, "invoices", "pdf", "--config", typo, "--number", "AB12345000", "--out", pdf)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), typo+`: unknown setting "ROUTEFREE_SELLER_NAM"`) {
		t.Fatalf("misspelt seller setting: %v\n%s", err, out)
	}
}

// zippedText is every file of a zip, one after the other.
func zippedText(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var b bytes.Buffer
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(&b, r)
		r.Close()
	}
	return b.String()
}

// A settings file may now hold secrets (a client secret, a provider's key,
// the ECPay hash key); one that others on the machine can read gets a
// warning naming the secrets it holds and the fix, never their values.
func TestSettingsFileWithSecretsReadableByOthersIsWarnedOf(t *testing.T) {
	cleanEnv(t)
	file := writeFile(t, "routefree.env", "ROUTEFREE_OIDC_CLIENT_SECRET=s3cret-value\nOPENAI_API_KEY=sk-from-file\nROUTEFREE_OIDC_ISSUER=https://idp.example\n"+
		"invoice-aes-key=00112233445566778899aabbccddeeff\n")
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := parseServe(t, "--config", file)
	if err != nil {
		t.Fatal(err)
	}
	warns := c.secretFileWarnings()
	if len(warns) != 1 || !strings.Contains(warns[0], "ROUTEFREE_OIDC_CLIENT_SECRET") || !strings.Contains(warns[0], "OPENAI_API_KEY") ||
		!strings.Contains(warns[0], "ROUTEFREE_INVOICE_AES_KEY") || strings.Contains(warns[0], "00112233") ||
		!strings.Contains(warns[0], "chmod 600") || strings.Contains(warns[0], "ROUTEFREE_OIDC_ISSUER") || strings.Contains(warns[0], "s3cret") {
		t.Fatalf("warnings %q", warns)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if warns := c.secretFileWarnings(); len(warns) != 0 {
		t.Fatalf("a file only its owner reads is warned of: %q", warns)
	}
}
