package main

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cleanEnv removes the ROUTEFREE_* variables for this test (restored after).
func cleanEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "ROUTEFREE_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func parseServe(t *testing.T, args ...string) (*Config, error) {
	fs, c := newFlags("serve", io.Discard)
	return c, parse(fs, c, args)
}

func writeFile(t *testing.T, name, text string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigLayersFileEnvFlags(t *testing.T) {
	cleanEnv(t)
	file := writeFile(t, "routefree.env", `# settings
LISTEN=0.0.0.0:9000
export ROUTEFREE_LOG_LEVEL="debug"
store=postgres
postgres-url='postgres://db/rf'
SHUTDOWN_GRACE=45s
`)
	t.Setenv("ROUTEFREE_LOG_LEVEL", "warn")
	c, err := parseServe(t, "--store", "sqlite", "--config", file, "--keepalive", "3s")
	if err != nil {
		t.Fatal(err)
	}
	type layered struct {
		Listen, LogLevel, Store, PostgresURL string
		ShutdownGrace, KeepAlive             time.Duration
	}
	want := layered{Listen: "0.0.0.0:9000", LogLevel: "warn", Store: "sqlite", PostgresURL: "postgres://db/rf", ShutdownGrace: 45 * time.Second, KeepAlive: 3 * time.Second}
	got := layered{Listen: c.Listen, LogLevel: c.LogLevel, Store: c.Store, PostgresURL: c.PostgresURL, ShutdownGrace: c.ShutdownGrace, KeepAlive: c.KeepAlive}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}

	// The same through ROUTEFREE_CONFIG, as JSON.
	cleanEnv(t)
	t.Setenv("ROUTEFREE_CONFIG", writeFile(t, "routefree.json", `{"listen": "127.0.0.1:7000", "max_body_bytes": 4096, "BOOTSTRAP_DEMO": true, "shutdown-grace": "5s"}`))
	t.Setenv("ROUTEFREE_SHUTDOWN_GRACE", "7s")
	c, err = parseServe(t, "--listen", "127.0.0.1:7001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7001" || c.MaxBodyBytes != 4096 || !c.BootstrapDemo || c.ShutdownGrace != 7*time.Second {
		t.Fatalf("JSON config: listen %s, max body %d, demo %v, grace %s", c.Listen, c.MaxBodyBytes, c.BootstrapDemo, c.ShutdownGrace)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	cleanEnv(t)
	t.Setenv("ROUTEFREE_KEEPALIVE", "often")
	file := writeFile(t, "bad.env", "LISTEN=127.0.0.1:8080\nCOLOUR=blue\nnot a setting\n")
	bad := writeFile(t, "bad2.env", "COLOUR=blue\nMAX_BODY_BYTES=lots\n")
	_, err := parseServe(t, "--config", bad, "--store", "mongo", "--log-level", "loud", "--listen", "nowhere", "--demo-credit", "x")
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, want := range []string{"ROUTEFREE_KEEPALIVE", `unknown setting "COLOUR"`, `max-body-bytes="lots"`, `--store "mongo"`, `--log-level "loud"`, `--listen "nowhere"`, `--demo-credit "x"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if _, err := parseServe(t, "--config", file); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("malformed line not reported: %v", err)
	}
}

// TestServeHelpDocumentsEverySetting runs the real binary's --help.
func TestServeHelpDocumentsEverySetting(t *testing.T) {
	out, err := exec.Command(binary, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, out)
	}
	fs, _ := newFlags("serve", io.Discard)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if !strings.Contains(string(out), "  -"+f.Name) || !strings.Contains(string(out), envName(f.Name)) {
			t.Errorf("--help does not document --%s (%s)", f.Name, envName(f.Name))
		}
	})
	if n < 20 {
		t.Fatalf("only %d settings", n)
	}
}

// --trusted-proxies: bad entries are configuration errors; with none the
// connection's address is the client's; with some, the nearest untrusted
// X-Forwarded-For entry is, and private or loopback addresses get no trust
// of their own.
func TestTrustedProxiesTellTheClient(t *testing.T) {
	cleanEnv(t)
	if _, err := parseServe(t, "--trusted-proxies", "10.0.0.0/8,proxy.local"); err == nil || !strings.Contains(err.Error(), "proxy.local") {
		t.Fatalf("bad entry accepted: %v", err)
	}
	req := func(remote, xff string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		return r
	}
	none, err := parseServe(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := clientAddress(none)(req("127.0.0.1:5000", "203.0.113.9")); got != "127.0.0.1" {
		t.Fatalf("no trusted proxy: %s, want the connection's address", got)
	}
	c, err := parseServe(t, "--trusted-proxies", "10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	ip := clientAddress(c)
	for _, tc := range []struct{ remote, xff, want string }{
		{"192.0.2.1:443", "203.0.113.9", "203.0.113.9"},                         // one trusted hop
		{"192.0.2.1:443", "198.51.100.1, 203.0.113.9, 10.1.2.3", "203.0.113.9"}, // the client cannot push a forged entry past it
		{"198.51.100.7:443", "203.0.113.9", "198.51.100.7"},                     // an untrusted sender's header is ignored
		{"127.0.0.1:443", "203.0.113.9", "127.0.0.1"},                           // loopback is not trusted unless listed
	} {
		if got := ip(req(tc.remote, tc.xff)); got != tc.want {
			t.Errorf("from %s with X-Forwarded-For %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// A malformed duration from the environment is reported once, with the
// form it wants.
func TestMalformedDurationSaysTheForm(t *testing.T) {
	cleanEnv(t)
	t.Setenv("ROUTEFREE_CONNECT_TIMEOUT", "5")
	_, err := parseServe(t)
	if err == nil {
		t.Fatal("ROUTEFREE_CONNECT_TIMEOUT=5 accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, `ROUTEFREE_CONNECT_TIMEOUT="5"`) || !strings.Contains(msg, `such as "5s"`) ||
		strings.Contains(msg, "parse error") || strings.Contains(msg, "must be positive") {
		t.Fatalf("error:\n%s", msg)
	}
	cleanEnv(t)
	file := writeFile(t, "routefree.env", "SHUTDOWN_GRACE=30\n")
	if _, err := parseServe(t, "--config", file); err == nil || !strings.Contains(err.Error(), `shutdown-grace="30": want a duration such as "5s"`) {
		t.Fatalf("config file: %v", err)
	}
	if _, err := parseServe(t, "--keepalive", "2"); err == nil || !strings.Contains(err.Error(), `--keepalive "2": want a duration such as "5s"`) {
		t.Fatalf("command line: %v", err)
	}
}

// A value on the command line that does not parse as its flag's kind (a
// duration, a whole number) is one problem among the others: serve and the
// CLI name it beside a bad environment variable and the flags after it,
// rather than stopping at it with a page of usage and leaving the rest to
// be found one start at a time.
func TestBadFlagValuesAreReportedWithEveryOtherProblem(t *testing.T) {
	env := append(baseEnv("http://127.0.0.1:1/v1"), "ROUTEFREE_LOG_LEVEL=loud")
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	out, code := run("serve", "--data-dir", t.TempDir(), "--shutdown-grace", "30", "--breaker-threshold", "x",
		"--keepalive", "2", "--store", "postgress")
	if code != 2 {
		t.Errorf("serve with bad settings exited %d, want 2:\n%s", code, out)
	}
	for _, want := range []string{`--shutdown-grace "30": want a duration such as "5s"`, `--breaker-threshold "x": want a whole number`,
		`--keepalive "2": want a duration`, `--store "postgress"`, `--log-level "loud"`} {
		if !strings.Contains(out, want) {
			t.Errorf("serve does not say %s:\n%s", want, out)
		}
	}
	// Each problem once, in the form it wants, without a page of usage or a
	// zeroed duration reported again as "must not be negative" or "positive".
	for _, unwanted := range []string{"parse error", "must be positive", "-body-read-timeout"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("serve says %q:\n%s", unwanted, out)
		}
	}

	dir := t.TempDir()
	out, code = run("accounts", "plan", "--data-dir", dir, "--account", "acct_x", "--rpm", "many", "--tpm", "1e6", "--store", "sqlit")
	if code != 2 {
		t.Errorf("accounts plan with bad flags exited %d, want 2:\n%s", code, out)
	}
	for _, want := range []string{`--rpm "many": want a whole number`, `--tpm "1e6": want a whole number`, `--store "sqlit"`} {
		if !strings.Contains(out, want) {
			t.Errorf("accounts plan does not say %s:\n%s", want, out)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("accounts plan refused for its flags left %d files in the data directory", len(entries))
	}

	// A flag that does not exist still stops the parse there, with the
	// command's flags shown, and a bad value before it is named too.
	out, code = run("serve", "--data-dir", dir, "--keepalive", "2", "--bogus", "1")
	if code != 2 || !strings.Contains(out, "flag provided but not defined: -bogus") || !strings.Contains(out, "-shutdown-grace duration") ||
		!strings.Contains(out, `--keepalive "2": want a duration`) {
		t.Errorf("serve --bogus: exit %d:\n%s", code, out)
	}
}
