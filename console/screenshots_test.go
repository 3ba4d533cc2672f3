package console

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/httpapi"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// screenCase is one console page to photograph: the echo route it renders
// (e.g. "GET /console/accounts/:id"), a URL of it on the seeded console,
// and who looks at it ("" signed out; else a column of screenCredentials).
// Adding a page is one line in screenPages.
type screenCase struct {
	name, route, url, who string
}

// screenPages are the console's pages as the screenshot test shows them. A
// GET route of the console that is neither here nor in screenSkip fails
// TestConsoleScreenshots.
var screenPages = []screenCase{
	{"signin", "GET /console/signin", "/console/signin", ""},
	{"models", "GET /models", "/models", ""},
	{"rankings", "GET /rankings", "/rankings?days=30", ""},
	{"accounts", "GET /console/accounts", "/console/accounts", "admin"},
	{"account-admin", "GET /console/accounts/:id", "/console/accounts/acct_shot", "admin"},
	{"account-finance", "GET /console/accounts/:id", "/console/accounts/acct_shot", "finance"},
	{"account-customer", "GET /console/accounts/:id", "/console/accounts/acct_shot", "customer"},
	{"topup-customer", "GET /console/accounts/:id/payments", "/console/accounts/acct_shot/payments", "customer"},
	{"invoices", "GET /console/invoices", "/console/invoices?month=2026-03", "finance"},
	{"quotes", "GET /console/quotes", "/console/quotes", "finance"},
	{"quote", "GET /console/quotes/:id", "/console/quotes/{quote}", "finance"}, // {quote}: the seeded quote's ID
	{"quote-replace", "GET /console/quotes/:id/replace", "/console/quotes/{quote}/replace", "finance"},
	{"refused-payments", "GET /console/payments/refused", "/console/payments/refused", "finance"},
	{"checkouts", "GET /console/payments", "/console/payments", "finance"},
	{"account-checkouts", "GET /console/accounts/:id/checkouts", "/console/accounts/acct_shot/checkouts", "finance"},
	{"audit", "GET /console/audit", "/console/audit", "auditor"},
	{"staff", "GET /console/staff", "/console/staff", "admin"},
	{"dashboard", "GET /console/dashboard", "/console/dashboard", "finance"},
	{"auth", "GET /auth", "/auth?callback_url=https%3A%2F%2Fchat.example.com%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256", "customer"},
}

// screenSkip are the console's GET routes that answer no page of their
// own, with the reason.
var screenSkip = map[string]string{
	"GET /console":                   "redirects to /console/",
	"GET /console/":                  "redirects to the signed-in person's first page",
	"GET /console/static/*":          "stylesheet, scripts and icons",
	"GET /console/invoices/export":   "downloads a MIG zip",
	"GET /payments/ecpay/back":       "redirects from the provider's cashier back to the console",
	"GET /console/sso/oidc":          "redirects to the identity provider",
	"GET /console/sso/oidc/callback": "the identity provider's redirect back",
	"GET /console/sso/saml":          "redirects to the identity provider",
	"GET /console/sso/saml/metadata": "SAML metadata XML",
}

// consoleGETRoutes are the GET routes of e that the console serves to
// browsers: everything but the JSON APIs.
func consoleGETRoutes(e *echo.Echo) []string {
	seen := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method != "GET" || strings.HasPrefix(r.Path, "/admin/api") || strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		seen[r.Method+" "+r.Path] = true
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// artifactsDir is where screenshots go: ROUTEFREE_ARTIFACTS (CI keeps
// it), or a temporary directory, which the log names.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("ROUTEFREE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// screenWidths are a desktop and a phone.
var screenWidths = []struct {
	name          string
	width, height int64
	mobile        bool
}{{"desktop", 1280, 900, false}, {"phone", 375, 812, true}}

// pageText collects what a reader sees: visible text outside code, scripts
// and charts, and the placeholders, titles and labels of the page.
const pageText = `(() => {
  const out = [];
  const skip = new Set(["SCRIPT", "STYLE", "CODE", "PRE", "TEXTAREA", "svg", "SVG", "CANVAS", "NOSCRIPT"]);
  const walk = (n) => {
    if (n.nodeType === 3) { const s = n.textContent.trim(); if (s) out.push(s); return; }
    if (n.nodeType !== 1 || skip.has(n.tagName) || skip.has(n.nodeName)) return;
    for (const a of ["placeholder", "title", "aria-label", "alt"]) { const v = n.getAttribute(a); if (v) out.push(v.trim()); }
    if (n.tagName === "INPUT" && (n.type === "submit" || n.type === "button") && n.value) out.push(n.value.trim());
    for (const c of n.childNodes) walk(c);
  };
  walk(document.body);
  out.push(document.title);
  return JSON.stringify(out);
})()`

// untranslated finds message keys shown as they are, as tr shows a key it
// has no text for: a dotted key whose first part is one of the messages'
// namespaces (plan.…, method.…), anywhere in the text, but for event
// types (the audit log names them as stored); on a Chinese page
// also an undotted key that stands alone as a whole text.
func untranslated(texts []string, lang string) []string {
	spaces := map[string]bool{}
	for k := range messages {
		if ns, _, ok := strings.Cut(k, "."); ok {
			spaces[ns] = true
		}
	}
	dotted := regexp.MustCompile(`\b[a-z][a-z0-9_]*(?:\.[A-Za-z0-9_-]+)+\b`)
	var out []string
	for _, s := range texts {
		for _, m := range dotted.FindAllString(s, -1) {
			ns, _, _ := strings.Cut(m, ".")
			if spaces[ns] && !domain.Known(m) { // an event type is a name, not a text
				out = append(out, m)
			}
		}
		if _, isKey := messages[s]; isKey && lang == langZH && !strings.ContainsAny(s, ". ") {
			out = append(out, s)
		}
	}
	return out
}

// amountRe finds NT$ amounts; wellFormed is the console's one format:
// thousands separators and two decimals.
var (
	amountRe   = regexp.MustCompile(`-?NT\$[0-9][0-9,]*(?:\.[0-9]+)?`)
	wellFormed = regexp.MustCompile(`^-?NT\$[0-9]{1,3}(?:,[0-9]{3})*\.[0-9]{2}$`)
)

// Every console page in zh-TW and English, at desktop and phone widths,
// photographed into the artifacts directory; each must answer 200 in the
// language asked, show every amount as NT$1,234.56 and no message key in
// place of a text. The account of a customer with more than NT$80,000
// shows its balance with a thousands separator.
func TestConsoleScreenshots(t *testing.T) {
	var ech *echo.Echo
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(x *echo.Echo, d *Deps) {
		ech = x
		httpapi.Register(x.Group("/admin/api"), x.Group("/api/v1"), d.Invoices.(*invoicing.Service), d.Auth)
		fake = withPayments(t, x, d)
	})

	// Every page route has a case or a reason to be skipped.
	covered := map[string]bool{}
	for _, c := range screenPages {
		covered[c.route] = true
	}
	for _, r := range consoleGETRoutes(ech) {
		if !covered[r] && screenSkip[r] == "" {
			t.Errorf("console page %s has no screenshot: add a line to screenPages (or to screenSkip, with the reason)", r)
		}
	}
	for _, c := range screenPages {
		if !strings.HasPrefix(c.route, "GET ") {
			t.Errorf("screenshot %s: route %q is not a GET route", c.name, c.route)
		}
	}

	// A customer with more than NT$80,000, usage, keys, an invoice and an
	// allowance; a second, postpaid account.
	// With a 統一編號: its invoice takes the allowance before its period is filed.
	e.openBuyer("acct_shot", "截圖測試股份有限公司", "04595257", domain.PlanStarter)
	e.openAccount("acct_post", "月結測試有限公司", domain.PlanBusiness)
	keyID, _ := e.issueKey("acct_shot")
	_, customer, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_shot", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	// The first payment's invoice: each payment has its own, in order of
	// payment, so the larger one below waits for its own.
	e.invoice("acct_shot", "AB12345678", "2026-03")
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_shot", Amount: decimal.NewFromInt(80000),
		Method: domain.MethodBankTransfer, Reference: "BANK-80000"}); err != nil {
		t.Fatal(err)
	}
	seedUsage(e, "acct_shot", keyID)
	if err := e.cmds.SetRankingsListed(e.ctx, "acct_shot", true); err != nil {
		t.Fatal(err)
	}
	// The allowance's reason as finance writes it (not a word that is also a message key).
	if _, err := e.deps.Invoices.(*invoicing.Service).IssueAllowance(e.ctx, "AB12345678", 105, "客訴折讓"); err != nil {
		t.Fatal(err)
	}
	quote, err := e.deps.Invoices.CreateQuote(e.ctx, invoicing.QuoteRequest{Agency: "臺北市政府", Contact: "王小明",
		Items: []domain.QuoteItem{{Name: "AI API", Quantity: decimal.NewFromInt(12), Unit: "月", UnitPrice: decimal.NewFromInt(5000)}}})
	if err != nil {
		t.Fatal(err)
	}
	// Checkouts: one paid by ATM, one declined, one awaiting payment.
	paid := e.checkoutAtCashier("acct_shot", customer, "atm", "2400").TradeNo
	if _, err := fake.PaymentInfo(paid, nil); err != nil {
		t.Fatal(err)
	}
	if reply, err := fake.Paid(paid, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("ATM transfer: %q %v", reply, err)
	}
	declined := e.checkoutAtCashier("acct_shot", customer, "card", "900").TradeNo
	if reply, err := fake.Paid(declined, func(f url.Values) { f.Set("RtnCode", "10100058"); f.Set("RtnMsg", "授權失敗") }, nil); err != nil || reply != "1|OK" {
		t.Fatalf("declined card: %q %v", reply, err)
	}
	e.checkoutAtCashier("acct_shot", customer, "card", "500")
	e.sync()
	balance, _ := e.models.Balances.View("acct_shot", "", e.clock.Now())
	if balance.Balance.LessThan(decimal.NewFromInt(80000)) {
		t.Fatalf("seeded balance %s, want at least NT$80,000", balance.Balance)
	}

	creds := map[string]string{"admin": e.admin, "finance": e.finance, "auditor": e.auditor, "customer": customer}
	dir := artifactsDir(t)
	c := newChrome(t)
	who := ""
	shots := 0
	for _, sc := range screenPages {
		if sc.who != who {
			if who != "" {
				c.signOut()
			}
			if sc.who != "" {
				secret, ok := creds[sc.who]
				if !ok {
					t.Fatalf("screenshot %s: nobody called %q", sc.name, sc.who)
				}
				c.signIn(e.srv.URL, secret)
			}
			who = sc.who
		}
		for _, lang := range []string{langZH, langEN} {
			for _, w := range screenWidths {
				step := sc.name + "-" + lang + "-" + w.name
				opts := []chromedp.EmulateViewportOption{}
				if w.mobile {
					opts = append(opts, chromedp.EmulateMobile)
				}
				c.do(step+" viewport", chromedp.EmulateViewport(w.width, w.height, opts...))
				u := e.srv.URL + strings.ReplaceAll(sc.url, "{quote}", quote.QuoteID)
				if strings.Contains(u, "?") {
					u += "&lang=" + lang
				} else {
					u += "?lang=" + lang
				}
				resp := get(c, step, chromedp.NavigateResponse(u))
				if resp.Status != 200 {
					t.Errorf("%s: status %d (artefacts: %s)", step, resp.Status, c.artefacts(step))
					continue
				}
				c.do(step+" ready", chromedp.WaitReady(chromedp.CSS("main")))
				// Charts are drawn after load: photograph them drawn, not blank.
				get(c, step+" charts", chromedp.Poll[bool](`[...document.querySelectorAll("canvas")].every(c => c.hasAttribute("data-drawn"))`,
					chromedp.WithPollingTimeout(10*time.Second)))
				png := get(c, step+" screenshot", chromedp.FullScreenshot(100))
				if len(png) < 8 || string(png[1:4]) != "PNG" {
					t.Fatalf("%s: the screenshot is not a PNG", step)
				}
				if err := os.WriteFile(filepath.Join(dir, step+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
				shots++

				if got := get(c, step+" lang", chromedp.Evaluate[string](`document.documentElement.lang`)); got != lang {
					t.Errorf("%s: the page is in %q", step, got)
				}
				var texts []string
				if err := json.Unmarshal([]byte(get(c, step+" text", chromedp.Evaluate[string](pageText))), &texts); err != nil {
					t.Fatal(err)
				}
				if keys := untranslated(texts, lang); len(keys) > 0 {
					t.Errorf("%s shows untranslated message keys %q", step, keys)
				}
				for _, s := range texts {
					for _, a := range amountRe.FindAllString(s, -1) {
						if !wellFormed.MatchString(a) {
							t.Errorf("%s: amount %q is not formatted as NT$1,234.56 (in %q)", step, a, s)
						}
					}
				}
				if sc.route == "GET /console/accounts/:id" {
					got := get(c, step+" balance", chromedp.Evaluate[string](`document.getElementById("balance").textContent.trim()`))
					want := money(balance.Balance)
					if got != want || !strings.Contains(got, ",") {
						t.Errorf("%s: balance shows %q, want %q", step, got, want)
					}
				}
			}
		}
	}
	if want := len(screenPages) * 2 * len(screenWidths); shots != want {
		t.Fatalf("%d screenshots taken, want %d", shots, want)
	}
	time.Sleep(100 * time.Millisecond) // late console messages
	if v := c.violations(); len(v) > 0 {
		t.Errorf("console errors or CSP violations:\n%s", strings.Join(v, "\n"))
	}
}

// The screenshot test's checks catch what they look for.
func TestScreenshotChecks(t *testing.T) {
	if got := untranslated([]string{"餘額", "plan.starter", "狀態：method.credit-card 已付", "openai/gpt-4.1", "example.com", "NT$1.00", "key.issued"}, langZH); len(got) != 2 ||
		got[0] != "plan.starter" || got[1] != "method.credit-card" {
		t.Fatalf("dotted keys: %q", got)
	}
	if got := untranslated([]string{"remaining", "Credit left"}, langZH); len(got) != 1 {
		t.Fatalf("an undotted key alone on a Chinese page: %q", got)
	}
	if got := untranslated([]string{"remaining"}, langEN); len(got) != 0 {
		t.Fatalf("an English word on an English page: %q", got)
	}
	for s, ok := range map[string]bool{"NT$80,000.00": true, "-NT$0.04": true, "NT$80000.00": false, "NT$1,000": false, "NT$999.5": false} {
		if wellFormed.MatchString(s) != ok {
			t.Errorf("%s: well formed %v, want %v", s, !ok, ok)
		}
	}
}
