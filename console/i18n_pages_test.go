package console

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// dottedKey finds what looks like a message key (nav.accounts, err.plan).
var dottedKey = regexp.MustCompile(`\b[a-z]+(?:\.[a-z0-9-]+)+\b`)

// englishPhrase is two English words in a row: a sentence, not an
// identifier (acct_x, stf_…, F0401) nor a product name's single word.
var englishPhrase = regexp.MustCompile(`\b[A-Za-z]{2,}[ ,:]+[A-Za-z]{3,}\b`)

// chromeText is the text of a page's own words: headings, labels, table
// headers, buttons, options, hints, flashes and errors; not the data it
// lists (organisation and model names, event bodies), which is as entered.
func chromeText(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		if n.Type == html.ElementNode && n.Data == "code" { // identifiers, not words
			return ""
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (c.Data == "input" || c.Data == "textarea") {
				continue
			}
			b.WriteString(text(c))
			b.WriteByte(' ')
		}
		return b.String()
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			class := ""
			for _, a := range n.Attr {
				if a.Key == "class" {
					class = a.Val
				}
			}
			switch {
			case n.Data == "h1" || n.Data == "h2" || n.Data == "th" || n.Data == "label" || n.Data == "button" ||
				n.Data == "summary" || n.Data == "nav" || n.Data == "title" || n.Data == "figcaption",
				strings.Contains(class, "hint") || strings.Contains(class, "flash") || strings.Contains(class, "error"):
				out = append(out, strings.Join(strings.Fields(text(n)), " "))
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// allowedEnglish are the words a Chinese page keeps in English on purpose.
var allowedEnglish = []string{"RouteFree", "English", "OpenID Connect", "Turnkey", "API", "MIG", "RPM", "TPM", "Token", "NDJSON",
	"PDF", "ZIP", "ATM", "SAML", "ECPay", "NT$", "B2B", "B2C", "CheckMacValue", "RtnCode", "YYYY-MM"}

func checkChinese(t *testing.T, name, page string) {
	t.Helper()
	if !strings.Contains(page, `lang="zh-TW"`) {
		t.Errorf("%s: not a zh-TW page", name)
		return
	}
	for _, s := range chromeText(t, page) {
		for _, k := range dottedKey.FindAllString(s, -1) {
			if known(k) || strings.HasPrefix(k, "err.") {
				t.Errorf("%s shows the message key %q in %q", name, k, s)
			}
		}
		stripped := s
		for _, w := range allowedEnglish {
			stripped = strings.ReplaceAll(stripped, w, " ")
		}
		if m := englishPhrase.FindString(stripped); m != "" {
			t.Errorf("%s shows English %q in %q", name, m, s)
		}
	}
	if len(elementsByID(t, page, "error")) > 0 && strings.Contains(page, `class="error-detail"`) {
		t.Errorf("%s shows an error no translation knows: %s", name, elementText(t, page, "error"))
	}
}

// Every page of the console, and the errors its forms can meet, read in
// Chinese on a Chinese page: no message key and no English sentence shows.
func TestEveryPageSpeaksChinese(t *testing.T) {
	for k, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %s lacks a language", k)
		}
	}
	for _, typ := range domain.Types() {
		if !slices.Contains(eventTypes, typ) {
			t.Errorf("event type %s is not among the audit log's filter choices", typ)
		}
	}
	for _, typ := range eventTypes {
		if !known("ev." + typ) {
			t.Errorf("event type %s has no message ev.%s", typ, typ)
		}
	}
	for _, p := range errorPatterns {
		if !known(p.key) {
			t.Errorf("error pattern %s has no message %s", p.re, p.key)
		}
	}
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) {
		d.TurnkeyDir = t.TempDir()
		fake = withPayments(t, ech, d)
	})
	e.openAccount("acct_zh", "中文股份有限公司", domain.PlanStarter)
	keyID, _ := e.issueKey("acct_zh")
	seedUsage(e, "acct_zh", keyID)
	e.invoice("acct_zh", "AB12345678", "2026-03")
	_, management, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_zh", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	// A signed notification for a trade never started: refused, listed.
	if reply, err := fake.Send(e.srv.URL+payments.ReturnPath, url.Values{"MerchantID": {ecpay.TestMerchantID},
		"MerchantTradeNo": {"RF2603150000NOBODY"}, "RtnCode": {"1"}, "TradeAmt": {"500"}, "PaymentType": {"Credit_CreditCard"},
		"SimulatePaid": {"0"}}, nil, nil); err != nil || !strings.HasPrefix(reply, "0|") {
		t.Fatalf("unmatched notification: %q %v", reply, err)
	}
	// A declined card checkout: finance reads ECPay's reason in Chinese.
	declined := e.checkoutAtCashier("acct_zh", management, "card", "500").TradeNo
	if reply, err := fake.Paid(declined, func(f url.Values) { f.Set("RtnCode", "10100058"); f.Set("RtnMsg", "授權失敗") }, nil); err != nil || reply != "1|OK" {
		t.Fatalf("declined card: %q %v", reply, err)
	}

	type step struct {
		method, path string
		form         url.Values
		status       int // the answer expected (0: any success)
	}
	get := func(path string) step { return step{method: "GET", path: path, status: http.StatusOK} }
	getErr := func(path string, status int) step { return step{method: "GET", path: path, status: status} }
	post := func(path string, status int, kv ...string) step {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return step{"POST", path, v, status}
	}
	walks := map[string][]step{
		e.admin: {
			get("/console/accounts"), get("/console/accounts/acct_zh"), get("/console/staff"), get("/models"), get("/rankings"),
			getErr("/console/accounts/acct_nobody", http.StatusNotFound),
			getErr("/console/accounts/acct_zh?from=2026-13-01", http.StatusBadRequest),
			getErr("/console/accounts/acct_zh?from=2026-03-10&to=2026-01-01", http.StatusBadRequest),
			post("/console/accounts", http.StatusBadRequest, "organisation", "", "tax_id", "12345678", "plan", "gold"),
			post("/console/accounts/acct_zh/plan", http.StatusBadRequest, "plan", "starter", "rpm", "100"),
			post("/console/accounts/acct_zh/plan", http.StatusBadRequest, "plan", "enterprise", "rpm", "many"),
			post("/console/accounts/acct_zh/keys", http.StatusBadRequest, "name", "k", "spend_limit", "lots"),
			post("/console/accounts/acct_zh/keys", http.StatusBadRequest, "name", "k", "models", "no/such-model"),
			post("/console/accounts/acct_zh/suspend", http.StatusOK, "reason", "check"),
			post("/console/accounts/acct_zh/resume", http.StatusConflict, "reason", "never suspended"),
			post("/console/accounts/acct_zh/resume", http.StatusBadRequest),
			post("/console/keys/key_nobody/revoke", http.StatusNotFound),
			post("/console/staff", http.StatusBadRequest, "role", "owner", "name", "x"),
			post("/console/staff/stf_nobody/revoke", http.StatusNotFound),
			post("/console/staff/"+e.views.StaffTokens()[0].ID+"/revoke", http.StatusOK),
		},
		e.finance: {
			get("/console/accounts"), get("/console/accounts/acct_zh"), get("/console/invoices"), get("/console/invoices?month=2026-02"),
			get("/console/quotes"), get("/console/payments/refused"), get("/console/payments"), get("/console/payments?status=failed"),
			get("/console/accounts/acct_zh/checkouts"),
			getErr("/console/invoices?month=2026-99", http.StatusBadRequest),
			post("/console/accounts/acct_zh/topups", http.StatusBadRequest, "amount", "abc", "method", "bank-transfer", "reference", "R1"),
			post("/console/accounts/acct_zh/topups", http.StatusBadRequest, "amount", "100", "method", "bank-transfer"),
			post("/console/accounts/acct_zh/topups", http.StatusBadRequest, "amount", "-5", "method", "bank-transfer", "reference", "R2"),
			post("/console/accounts/acct_zh/topups", http.StatusBadRequest, "amount", "10.5", "method", "bank-transfer", "reference", "R3"),
			post("/console/accounts/acct_zh/topups", http.StatusBadRequest, "amount", "10", "method", "cash", "reference", "R4"),
			post("/console/accounts/acct_zh/topups", http.StatusConflict, "amount", "999", "method", "bank-transfer", "reference", "PAY-AB12345678"),
			post("/console/accounts/acct_zh/adjustments", http.StatusBadRequest, "amount", "0", "reason", ""),
			post("/console/accounts/acct_zh/credit-limit", http.StatusBadRequest, "credit_limit", "-1"),
			post("/console/quotes", http.StatusBadRequest, "agency", "", "agency_tax_id", "11111111"),
			post("/console/quotes", http.StatusBadRequest, "agency", "機關", "item_name", "A", "item_qty", "x", "item_price", "1"),
			post("/console/invoices/AB12345678/void", http.StatusOK, "reason", "wrong"),
			post("/console/invoices/AB12345678/void", http.StatusBadRequest, "confirm", "yes"),
			post("/console/invoices/ZZ00000000/void", http.StatusNotFound, "confirm", "yes", "reason", "x"),
			post("/console/invoices/AB12345678/allowances", http.StatusBadRequest, "amount", "abc"),
			// acct_zh has no 統一編號: its invoice takes no allowance before
			// its period is filed, and the refusal reads in Chinese.
			post("/console/invoices/AB12345678/allowances", http.StatusConflict, "amount", "999999", "reason", "too much", "allowances", "0", "confirm", "yes"),
			post("/console/invoices/close", http.StatusBadRequest, "month", "2026-04", "confirm", "yes"),
			post("/console/invoices/ranges", http.StatusBadRequest, "period", "2026-04", "prefix", "AB", "from", "1", "to", "9"),
			post("/console/invoices/ranges", http.StatusBadRequest, "period", "2026-05", "prefix", "A1", "from", "1", "to", "9"),
			post("/console/invoices/ranges", http.StatusBadRequest, "period", "2026-05", "prefix", "AB", "from", "x", "to", "9"),
			post("/console/invoices/ranges", http.StatusConflict, "period", "2026-03", "prefix", "AB", "from", "12345600", "to", "12345699", "confirm", "yes"),
			getErr("/console/invoices/export?message=X&period=2026-03", http.StatusBadRequest),
		},
		e.auditor: {
			get("/console/audit?check=1"), get("/console/audit?q=acct_zh&page=2"), get("/console/invoices"),
			get("/console/payments"), get("/console/accounts/acct_zh/checkouts"),
			getErr("/console/audit?since=yesterday", http.StatusBadRequest),
			get("/console/quotes"),
			post("/console/quotes", http.StatusForbidden, "agency", "機關"), // the builder is not the auditor's: refused, in Chinese
		},
		management: {
			get("/console/accounts/acct_zh"), get("/console/accounts/acct_zh/payments"),
			post("/console/accounts/acct_zh/payments", http.StatusBadRequest, "amount", "0", "method", "card"),
			post("/console/accounts/acct_zh/payments", http.StatusBadRequest, "amount", "100", "method", "cash"),
			post("/console/accounts/acct_zh/keys", http.StatusBadRequest, "name", "wide", "models", "x"),
		},
	}
	// The invoice's range belongs to 2026-03: another overlapping it is refused.
	for who, steps := range walks {
		b := e.browser()
		csrf := b.signIn(who)
		b.get("/console/accounts?lang=zh-TW")
		for _, s := range steps {
			var resp *http.Response
			var page string
			if s.method == "GET" {
				resp, page = b.get(s.path)
			} else {
				s.form.Set("csrf", csrf)
				if s.form.Get("confirm") == "yes" { // as the confirmation step sends it
					s.form.Set("once", randomToken())
				}
				resp, page = b.post(s.path, s.form)
			}
			name := s.method + " " + s.path + " " + s.form.Encode()
			if s.status != 0 && resp.StatusCode != s.status {
				t.Errorf("%s: %d, want %d", name, resp.StatusCode, s.status)
			}
			if resp.StatusCode == http.StatusSeeOther {
				continue
			}
			checkChinese(t, name, page)
			if resp.StatusCode >= 400 && len(elementsByID(t, page, "error")) == 0 && !strings.Contains(page, `id="signin-form"`) {
				t.Errorf("%s: %d without an error message", name, resp.StatusCode)
			}
		}
	}
	// A refused notification's reason, kept in English in its event, reads
	// in Chinese.
	fb := e.browser()
	fb.signIn(e.finance)
	fb.get("/console/payments/refused?lang=zh-TW")
	_, refused := fb.get("/console/payments/refused")
	if rows := elements(t, refused, "tr", "data-trade"); len(rows) != 2 { // the unmatched and the declined
		t.Fatalf("refused notifications listed: %v", rows)
	}
	if text := visibleText(t, refused); !strings.Contains(text, "查無此訂單編號") || strings.Contains(text, "unknown trade number") || !strings.Contains(text, "未付款") {
		t.Errorf("the refused notification's reason reads %q", text)
	}
	// The sign-in page and its refusals.
	b := e.browser()
	b.get("/console/signin?lang=zh-TW")
	_, page := b.get("/console/signin")
	checkChinese(t, "sign-in", page)
}

// The language links keep the page's query: the search, the filters, the
// sort and the page.
func TestLanguageSwitchKeepsTheQuery(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_lang", "語言公司", domain.PlanStarter)
	e.manyAdjustments("acct_lang", 200)
	b := e.browser()
	b.signIn(e.auditor)
	_, page := b.get("/console/audit?page=3&q=adjust&type=" + domain.TypeCreditsAdjusted)
	href := attrOf(t, page, "a", "id", "lang-en", "href")
	u, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/console/audit" || q.Get("page") != "3" || q.Get("q") != "adjust" || q.Get("type") != domain.TypeCreditsAdjusted || q.Get("lang") != "en" {
		t.Fatalf("the English link is %q", href)
	}
	_, en := b.get(href)
	if !strings.Contains(en, `lang="en"`) {
		t.Fatal("the link does not switch to English")
	}
	if p, _, total := pagerOf(t, en, ""); p != 3 || total != 200 {
		t.Fatalf("after switching: page %d of a search finding %d, want page 3 of 200", p, total)
	}
	back := attrOf(t, en, "a", "id", "lang-zh", "href")
	if bu, _ := url.Parse(back); bu.Query().Get("page") != "3" || bu.Query().Get("lang") != "zh-TW" || strings.Count(back, "lang=") != 1 {
		t.Fatalf("the Chinese link is %q", back)
	}
}
