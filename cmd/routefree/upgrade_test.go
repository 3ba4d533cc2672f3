package main

// Stores written by earlier releases, opened by this one: an auditor who
// replays them gets the figures the release that wrote them printed, finance
// downloads the same documents, and the gateway goes on where it stopped.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/invoicing/twrules"
)

// upgradeSeller is the seller configuration the fixtures were written with
// (testdata/upgrade-*/README.md); the operator keeps it across the upgrade.
var upgradeSeller = []string{
	"ROUTEFREE_SELLER_NAME=路由自由股份有限公司",
	"ROUTEFREE_SELLER_TAX_ID=24549210",
	"ROUTEFREE_SELLER_ADDRESS=臺北市信義區松仁路100號",
	"ROUTEFREE_SELLER_PHONE=02-2345-6789",
	"ROUTEFREE_SELLER_CONTACT=王小明",
	"ROUTEFREE_SELLER_EMAIL=billing@routefree.example",
	"ROUTEFREE_SELLER_RESPONSIBLE=陳大文",
	"ROUTEFREE_SELLER_BANK_ACCOUNT=台灣銀行 012-345678-9",
	"ROUTEFREE_INVOICE_AES_KEY=0123456789ABCDEF0123456789ABCDEF",
}

func TestStoresOfEarlierReleases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "upgrade-*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures under testdata/upgrade-*: %v", err)
	}
	needPDFText(t)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkUpgrade(t, dir) })
	}
}

func checkUpgrade(t *testing.T, fixture string) {
	data := t.TempDir()
	env := append(baseEnv(fakeUpstream(t, providertest.Script{})), upgradeSeller...)
	store := []string{"--data-dir", data}
	if _, err := os.Stat(filepath.Join(fixture, "store.sql")); err == nil {
		store = append(store, "--store", "postgres", "--postgres-url", loadPostgresDump(t, filepath.Join(fixture, "store.sql")))
	} else {
		copyFile(t, filepath.Join(fixture, "events.db"), filepath.Join(data, "events.db"))
	}
	golden := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(fixture, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	creds := readCredentials(t, filepath.Join(fixture, "credentials.env"))

	// The chain the old release verified verifies, with the same head.
	verify := runCLI(t, env, append([]string{"events", "verify"}, store...)...)
	if head := chainHead(string(golden("verify.txt"))); head == "" || chainHead(verify) != head {
		t.Errorf("events verify: chain head %q, the old release verified %q\n%s", chainHead(verify), head, verify)
	}

	// replay: every figure the old release printed, equal as a number.
	replay := runCLI(t, env, append([]string{"replay"}, store...)...)
	was, now := replayFigures(string(golden("replay.txt"))), replayFigures(replay)
	if len(was) < 10 {
		t.Fatalf("the fixture's replay has %d figures", len(was))
	}
	for _, k := range sortedKeys(was) {
		if got, ok := now[k]; !ok || !got.Equal(was[k]) {
			t.Errorf("replay %s: %s, the old release printed %s", k, got, was[k])
		}
	}

	// invoices reconcile: per account and month, used, invoiced and pending.
	// (Releases before the reconciliation have no reconcile.json.)
	if b, err := os.ReadFile(filepath.Join(fixture, "reconcile.json")); err == nil {
		var wasRec, nowRec any
		mustJSON(t, b, &wasRec)
		mustJSON(t, []byte(runCLI(t, env, append([]string{"invoices", "reconcile", "--json"}, store...)...)), &nowRec)
		for _, d := range jsonMissing(wasRec, nowRec, "") {
			t.Errorf("invoices reconcile --json: %s", d)
		}
	}

	// Run after the fixture's periods, the new invoice needs a range of today's.
	if p := twrules.PeriodOf(time.Now()).String(); p != "2026-11" && p != "2027-01" {
		runCLI(t, env, append([]string{"invoices", "range", "--period", p, "--prefix", "EF", "--from", "30000000", "--to", "30000049"}, store...)...)
	}

	p := startServe(t, env, store...)
	get := func(path, token string) []byte {
		t.Helper()
		code, body := httpDo(t, http.MethodGet, p.base+path, token, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return body
	}

	// The staff and customer APIs answer what the old release answered.
	apis := map[string][2]string{
		"admin_invoices.json":               {"/admin/api/invoices", creds["FIN"]},
		"customer_invoices_acct_b2b.json":   {"/api/v1/invoices", creds["K1"]},
		"customer_invoices_acct_corp.json":  {"/api/v1/invoices", creds["K3"]},
		"customer_allowances_acct_b2b.json": {"/api/v1/allowances", creds["K1"]},
		"account_acct_demo.json":            {"/admin/api/accounts/acct_demo", creds["FIN"]},
		"account_acct_b2b.json":             {"/admin/api/accounts/acct_b2b", creds["FIN"]},
		"account_acct_b2c.json":             {"/admin/api/accounts/acct_b2c", creds["FIN"]},
		"account_acct_corp.json":            {"/admin/api/accounts/acct_corp", creds["FIN"]},
	}
	for name, call := range apis {
		b, err := os.ReadFile(filepath.Join(fixture, "api", name))
		if os.IsNotExist(err) {
			continue // not answered by that release
		}
		var old, cur any
		mustJSON(t, b, &old)
		mustJSON(t, get(call[0], call[1]), &cur)
		for _, d := range jsonMissing(old, cur, "") {
			t.Errorf("GET %s (%s): %s", call[0], name, d)
		}
	}

	// Every document the old release rendered prints the same words again:
	// buyer, seller, numbers, dates, amounts, tax and totals.
	texts, _ := filepath.Glob(filepath.Join(fixture, "pdf", "*.txt"))
	if len(texts) < 3 {
		t.Fatalf("the fixture has %d documents", len(texts))
	}
	var oldNumbers []string
	for _, f := range texts {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		kind, id, _ := strings.Cut(name, "_")
		if kind == "invoice" {
			oldNumbers = append(oldNumbers, id)
		}
		doc := pdfTextOf(t, get("/admin/api/"+kind+"s/"+id+"/pdf", creds["FIN"]))
		if miss := missingWords(string(golden(filepath.Join("pdf", name+".txt"))), doc); len(miss) > 0 {
			t.Errorf("%s %s no longer prints %q\nnow:\n%s", kind, id, miss, doc)
		}
	}

	// The demo key is served with the balance replayed, and bills on.
	demo := creds["DEMO"]
	if bal, want := keyBalance(t, p.base, demo), was["BALANCES acct_demo"]; !bal.Equal(want) {
		t.Errorf("demo key balance %s, replayed %s", bal, want)
	}
	o := chat(t.Context(), p.base, demo, true, 50)
	if !o.complete {
		t.Fatalf("demo key request: %+v", o)
	}
	if bal, want := keyBalance(t, p.base, demo), was["BALANCES acct_demo"]; !bal.LessThan(want) {
		t.Errorf("demo key balance %s after a request, was %s", bal, want)
	}

	// Keys revoked or disabled by the old release stay refused.
	for _, which := range []string{"REVOKED", "DISABLED"} {
		key, ok := creds[which]
		if !ok {
			continue
		}
		code, body := httpDo(t, http.MethodPost, p.base+"/api/v1/chat/completions", key,
			`{"model":"routefree/echo","messages":[{"role":"user","content":"hello"}]}`)
		if code != http.StatusUnauthorized || !strings.Contains(string(body), strings.ToLower(which)) {
			t.Errorf("a key %s by the old release: %d %s", strings.ToLower(which), code, body)
		}
	}

	// A new top-up is invoiced under a number after every old one of its
	// period (a top-up whose invoice an old release voided may be invoiced
	// again first), and no number is on two invoices.
	code, body := httpDo(t, http.MethodPost, p.base+"/admin/api/accounts/acct_corp/topups", creds["FIN"],
		`{"amount":"700","method":"bank-transfer","reference":"upgrade-topup-1"}`)
	if code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("top-up: %d %s", code, body)
	}
	newInv := waitTopUpInvoice(t, func() []byte { return get("/admin/api/invoices", creds["FIN"]) }, "upgrade-topup-1")
	sort.Strings(oldNumbers)
	if last := oldNumbers[len(oldNumbers)-1]; newInv.Period == "2026-11" && newInv.Number <= last {
		t.Errorf("new top-up invoice %s, not after the old %s", newInv.Number, last)
	}
	// The postpaid account's usage the old release left uninvoiced is
	// billed once, beside what its invoices billed and nothing of it again.
	runCLI(t, env, append([]string{"invoices", "issue", "--account", "acct_b2b", "--month", "2026-12"}, store...)...)
	var rec struct {
		Rows []struct {
			AccountID string          `json:"account_id"`
			Month     string          `json:"month"`
			Used      decimal.Decimal `json:"used"`
			Invoiced  decimal.Decimal `json:"invoiced"`
			Pending   decimal.Decimal `json:"pending"`
		} `json:"rows"`
	}
	mustJSON(t, []byte(runCLI(t, env, append([]string{"invoices", "reconcile", "--json", "--month", "2026-12"}, store...)...)), &rec)
	billed := false
	for _, r := range rec.Rows {
		if r.AccountID == "acct_b2b" {
			billed = true
			if !r.Invoiced.Equal(r.Used) || !r.Pending.IsZero() || !r.Used.Equal(was["USAGE 2026-12 acct_b2b"]) {
				t.Errorf("acct_b2b %s: used %s (replayed %s), invoiced %s, pending %s", r.Month, r.Used, was["USAGE 2026-12 acct_b2b"], r.Invoiced, r.Pending)
			}
		}
	}
	if !billed {
		t.Error("acct_b2b has no reconciliation row for 2026-12")
	}

	var all struct {
		Invoices []listedInvoice `json:"invoices"`
	}
	mustJSON(t, get("/admin/api/invoices", creds["FIN"]), &all)
	seen := map[string]bool{}
	for _, inv := range all.Invoices {
		if seen[inv.Period+" "+inv.Number] {
			t.Errorf("invoice number %s issued twice in period %s", inv.Number, inv.Period)
		}
		seen[inv.Period+" "+inv.Number] = true
	}
	if len(all.Invoices) <= len(oldNumbers) {
		t.Errorf("%d invoices after a new top-up, %d before", len(all.Invoices), len(oldNumbers))
	}

	// What this release appended chains on to the old history.
	if out := runCLI(t, env, append([]string{"events", "verify"}, store...)...); !strings.HasPrefix(out, "OK ") {
		t.Errorf("events verify after new appends: %s", out)
	}
}

var chainHeadRE = regexp.MustCompile(`chain head ([0-9a-f]{64})`)

func chainHead(s string) string {
	if m := chainHeadRE.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// replayFigures reads replay's report as "SECTION row…" → number, the
// section named by its heading's first word, so that a reworded heading or
// realigned columns compare equal and only the numbers count.
func replayFigures(s string) map[string]decimal.Decimal {
	figs := map[string]decimal.Decimal{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "EVENTS" && len(f) == 2:
			figs["EVENTS"] = decimal.RequireFromString(f[1])
			continue
		case f[0] == "HASH":
			continue
		case f[0] == "INVOICE" && len(f) > 2 && f[1] == "DOCUMENTS":
			figs["INVOICE DOCUMENTS"] = decimal.RequireFromString(f[2])
			continue
		case strings.ToUpper(f[0]) == f[0] && !strings.ContainsAny(f[0], "0123456789") && len(f) > 1 && !isNumber(f[len(f)-1]):
			section = f[0] // a heading
			continue
		}
		if len(f) < 2 || !isNumber(f[len(f)-1]) {
			continue // column headings, notes
		}
		figs[section+" "+strings.Join(f[:len(f)-1], " ")] = decimal.RequireFromString(f[len(f)-1])
	}
	return figs
}

func isNumber(s string) bool { _, err := decimal.NewFromString(s); return err == nil }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

// jsonMissing lists what of old cur lacks or answers otherwise: new fields
// and new list items may come, none may go or change. Numbers compare by value. A month's
// spend moves with the calendar and is left out.
func jsonMissing(old, cur any, path string) []string {
	switch o := old.(type) {
	case map[string]any:
		c, ok := cur.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v, was %v", path, cur, old)}
		}
		var out []string
		for _, k := range sortedKeys(o) {
			if k == "month_spend" {
				continue
			}
			cv, ok := c[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing, was %v", path, k, o[k]))
				continue
			}
			out = append(out, jsonMissing(o[k], cv, path+"."+k)...)
		}
		return out
	case []any:
		c, ok := cur.([]any) // may list more: what was issued since
		if !ok || len(c) < len(o) {
			return []string{fmt.Sprintf("%s: %v, was %v", path, cur, old)}
		}
		var out []string
		for i := range o {
			out = append(out, jsonMissing(o[i], c[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case float64:
		if c, ok := cur.(float64); ok && c == o {
			return nil
		}
	case string:
		if c, ok := cur.(string); ok {
			if c == o {
				return nil
			}
			if a, err := decimal.NewFromString(o); err == nil {
				if b, err := decimal.NewFromString(c); err == nil && a.Equal(b) {
					return nil
				}
			}
		}
	default:
		if reflect.DeepEqual(old, cur) {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: %v, was %v", path, cur, old)}
}

// missingWords are the words of was that now lacks (counted: a number
// printed twice must be printed twice). Numbers compare by value: 15,000
// and 15,000.00 are one amount.
func missingWords(was, now string) []string {
	word := func(w string) string {
		if d, err := decimal.NewFromString(strings.ReplaceAll(w, ",", "")); err == nil {
			return d.String()
		}
		return w
	}
	have := map[string]int{}
	for _, w := range strings.Fields(now) {
		have[word(w)]++
	}
	// pdftotext gives a line of Chinese as one "word": a line the layout
	// now wraps elsewhere is still printed when its characters run on in
	// the text with the line breaks taken out.
	flat := strings.Join(strings.Fields(now), "")
	var miss []string
	for _, w := range strings.Fields(was) {
		if n := word(w); have[n] > 0 {
			have[n]--
			continue
		}
		if !strings.Contains(flat, w) {
			miss = append(miss, word(w))
		}
	}
	return miss
}

func needPDFText(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		msg := "pdftotext is missing: install Debian's poppler-utils"
		if os.Getenv("ROUTEFREE_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func pdfTextOf(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func httpDo(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func readCredentials(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		m[k] = v
	}
	return m
}

// loadPostgresDump loads a pg_dump of schema upgrade_fixture (events, read
// models and migration versions as the old release left them) into a
// schema of the test's own and returns its URL.
func loadPostgresDump(t *testing.T, path string) string {
	t.Helper()
	dsn := testenv.PostgresURL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dump, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sql := strings.ReplaceAll(string(dump), "upgrade_fixture.", u.Query().Get("search_path")+".")
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return dsn
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

type listedInvoice struct {
	Number string   `json:"number"`
	Period string   `json:"period"`
	TopUps []string `json:"topups"`
	TopUp  string   `json:"topup_ref"`
}

// waitTopUpInvoice waits for serve to invoice the top-up ref.
func waitTopUpInvoice(t *testing.T, list func() []byte, ref string) listedInvoice {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var r struct {
			Invoices []listedInvoice `json:"invoices"`
		}
		mustJSON(t, list(), &r)
		for _, inv := range r.Invoices {
			if inv.TopUp == ref || (len(inv.TopUps) > 0 && inv.TopUps[len(inv.TopUps)-1] == ref) {
				return inv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("top-up %s not invoiced within 30 s", ref)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
