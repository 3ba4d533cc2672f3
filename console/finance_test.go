package console

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

func TestMoneyFormat(t *testing.T) {
	for in, want := range map[string]string{
		"80000": "NT$80,000.00", "-0.04": "-NT$0.04", "1234567.891": "NT$1,234,567.89", "0": "NT$0.00",
		"999.995": "NT$1,000.00", "-1050": "-NT$1,050.00", "100": "NT$100.00", "-0.001": "NT$0.00",
	} {
		if got := money(decimal.RequireFromString(in)); got != want {
			t.Errorf("money(%s) = %q, want %q", in, got, want)
		}
	}
	if got := ntd(-123456); got != "-NT$123,456.00" {
		t.Errorf("ntd(-123456) = %q", got)
	}
}

// ledger reads the invoicing ledger afresh from the event store, so a test
// sees what was recorded, not what a page or a cache says.
func (e *env) ledger() *invoicing.Service {
	e.t.Helper()
	svc, err := invoicing.New(e.store, invoicing.Config{Seller: invoicing.DevSeller(), Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := svc.Sync(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// febUsage opens a postpaid account with usage in February 2026 (Taipei)
// costing cost NTD, tax included.
// febUsage opens a Business account with a 統一編號 and records its
// February usage: its invoice is B2B, and takes allowances before its
// period is filed (a B2C one is voided and issued again then).
func (e *env) febUsage(acct, org, cost string) {
	e.t.Helper()
	e.openBuyer(acct, org, "22099131", domain.PlanBusiness)
	key, _ := e.issueKey(acct)
	e.request(acct, key, "openai/gpt-4o-mini", "app", time.Date(2026, 2, 10, 12, 0, 0, 0, projections.Taipei), 1000, 500, cost)
	e.sync()
}

// febUsageB2C is febUsage for an account without a 統一編號: its invoice
// is B2C.
func (e *env) febUsageB2C(acct, org, cost string) {
	e.t.Helper()
	e.openAccount(acct, org, domain.PlanBusiness)
	key, _ := e.issueKey(acct)
	e.request(acct, key, "openai/gpt-4o-mini", "app", time.Date(2026, 2, 10, 12, 0, 0, 0, projections.Taipei), 1000, 500, cost)
	e.sync()
}

func onlyInvoice(t *testing.T, svc *invoicing.Service, acct string) invoicing.Invoice {
	t.Helper()
	invs := svc.Invoices("2026-02", acct)
	if len(invs) != 1 {
		t.Fatalf("%s has %d February invoices, want 1", acct, len(invs))
	}
	return invs[0]
}

// confirmStep submits the form whose button is sel, then confirms.
func (c *chrome) submitAndConfirm(step, sel string) {
	c.t.Helper()
	c.do(step,
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS("#confirm-submit")),
		chromedp.Click(chromedp.CSS("#confirm-submit")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
}

// Finance in a real browser: add a number range, close February, void one
// invoice, make an allowance on another and void it; each step confirmed
// on the page and checked in the event store. No page may trip the CSP.
func TestBrowserFinance(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_void", "作廢測試股份有限公司", "1050")
	e.febUsage("acct_allow", "折讓測試股份有限公司", "80000")
	c := newChrome(t)
	c.signIn(e.srv.URL, e.finance)
	page := e.srv.URL + "/console/invoices?month=2026-02&lang=en"

	// No range yet for March–April, the period a close issues in now.
	c.do("invoices", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`#ranges-2026-03 .no-range`)))

	// A range of two numbers: the close uses both, and the period runs low.
	c.do("range form",
		chromedp.SetValue(chromedp.CSS("#range-period"), "2026-03"),
		chromedp.SendKeys(chromedp.CSS("#range-prefix"), "AB"),
		chromedp.SendKeys(chromedp.CSS("#range-from"), "10000000"),
		chromedp.SendKeys(chromedp.CSS("#range-to"), "10000001"),
	)
	c.submitAndConfirm("add range", "#range-submit")
	if rs := e.ledger().RangeStatus("2026-03"); len(rs.Ranges) != 1 || rs.Size != 2 || rs.Ranges[0].Prefix != "AB" {
		t.Fatalf("ranges recorded: %+v", rs)
	}

	c.do("close form", chromedp.SetValue(chromedp.CSS("#close-month"), "2026-02"))
	c.submitAndConfirm("close February", "#close-submit")
	svc := e.ledger()
	voidMe, allowMe := onlyInvoice(t, svc, "acct_void"), onlyInvoice(t, svc, "acct_allow")
	if allowMe.Total != 80000 || allowMe.Sales+allowMe.Tax != 80000 {
		t.Fatalf("February invoice of acct_allow: %+v", allowMe.InvoiceIssued)
	}
	c.do("invoice rows", chromedp.WaitVisible(chromedp.CSS(`#invoices tr[data-invoice="`+allowMe.Number+`"]`)))
	if got := get(c, "net cell", chromedp.Text(chromedp.CSS(`#invoices tr[data-invoice="`+allowMe.Number+`"] td.net`))); got != "NT$80,000.00" {
		t.Errorf("net shown as %q, want NT$80,000.00", got)
	}
	if low := c.attr("low", "#ranges-2026-03", "data-low"); low != "true" {
		t.Errorf("a period with %d numbers left is not marked low", svc.RangeStatus("2026-03").Left)
	}
	c.do("low warning", chromedp.WaitVisible(chromedp.CSS("#ranges-2026-03 .low-warning")))

	// A second range for the period: taken after the first, the warning goes.
	c.do("second range",
		chromedp.SetValue(chromedp.CSS("#range-period"), "2026-03"),
		chromedp.SendKeys(chromedp.CSS("#range-prefix"), "AC"),
		chromedp.SendKeys(chromedp.CSS("#range-from"), "20000000"),
		chromedp.SendKeys(chromedp.CSS("#range-to"), "20000099"),
	)
	c.submitAndConfirm("add second range", "#range-submit")
	if rs := e.ledger().RangeStatus("2026-03"); len(rs.Ranges) != 2 || rs.Left != 100 || rs.Low {
		t.Fatalf("after the second range: %+v", rs)
	}
	if low := c.attr("not low", "#ranges-2026-03", "data-low"); low != "false" {
		t.Errorf("still marked low with 100 numbers left")
	}

	row := `#invoices tr[data-invoice="` + voidMe.Number + `"]`
	c.do("void form",
		chromedp.Click(chromedp.CSS(row+" details summary")),
		chromedp.SendKeys(chromedp.CSS(row+" .void-form input[name=reason]"), "wrong buyer"),
	)
	c.submitAndConfirm("void", row+" .void-form button")
	if inv, err := e.ledger().Invoice(voidMe.Number); err != nil || !inv.Voided || inv.VoidReason != "wrong buyer" {
		t.Fatalf("invoice %s after the void: voided=%v reason=%q err=%v", voidMe.Number, inv.Voided, inv.VoidReason, err)
	}
	if st := c.attr("void status", row, "data-status"); st != "voided" {
		t.Errorf("the list shows %s as %q", voidMe.Number, st)
	}

	row = `#invoices tr[data-invoice="` + allowMe.Number + `"]`
	c.do("allowance form",
		chromedp.Click(chromedp.CSS(row+" details summary")),
		chromedp.SendKeys(chromedp.CSS(row+" .allowance-form input[name=amount]"), "1,050"),
		chromedp.SendKeys(chromedp.CSS(row+" .allowance-form input[name=reason]"), "service credit"),
	)
	c.submitAndConfirm("allowance", row+" .allowance-form button")
	inv, err := e.ledger().Invoice(allowMe.Number)
	if err != nil || len(inv.Allowances) != 1 || inv.Allowances[0].Sales+inv.Allowances[0].Tax != 1050 || inv.Net() != 78950 {
		t.Fatalf("invoice %s after the allowance: %+v (err %v)", allowMe.Number, inv.Allowances, err)
	}
	allowance := inv.Allowances[0].Number
	if got := get(c, "net after", chromedp.Text(chromedp.CSS(row+" td.net"))); got != "NT$78,950.00" {
		t.Errorf("net after the allowance shown as %q", got)
	}
	if got := c.attr("month total", "#month-total", "data-net"); got != "78950" {
		t.Errorf("month's net total %s, want 78950 (voided invoice and allowance left out)", got)
	}

	arow := `#invoices tr[data-allowance="` + allowance + `"]`
	c.do("allowance void form",
		chromedp.Click(chromedp.CSS(arow+" details summary")),
		chromedp.SendKeys(chromedp.CSS(arow+" .allowance-void-form input[name=reason]"), "issued in error"),
	)
	c.submitAndConfirm("void allowance", arow+" .allowance-void-form button")
	inv, _ = e.ledger().Invoice(allowMe.Number)
	if len(inv.Allowances) != 1 || !inv.Allowances[0].Voided || inv.Net() != 80000 {
		t.Fatalf("allowance %s after its void: %+v", allowance, inv.Allowances)
	}
	if st := c.attr("allowance status", arow, "data-status"); st != "voided" {
		t.Errorf("the list shows allowance %s as %q", allowance, st)
	}

	// The reconciliation balances: February's usage is on live invoices but
	// for the voided one, which is pending and says why.
	rec, err := e.ledger().Reconcile(e.ctx, "2026-02")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.attr("recon total", "#recon-total", "data-pending"); !decimal.RequireFromString(got).Equal(rec.Totals.Pending) || !rec.Totals.Pending.Equal(decimal.NewFromInt(1050)) {
		t.Errorf("reconciliation pending: page %s, ledger %s, want 1050", got, rec.Totals.Pending)
	}
	time.Sleep(100 * time.Millisecond)
	if v := c.violations(); len(v) > 0 {
		t.Fatalf("console errors or CSP violations (artefacts: %s):\n%s", c.artefacts("violations"), strings.Join(v, "\n"))
	}
}

// Every irreversible form without confirm=yes shows the confirmation step
// and changes nothing; with it, the change is made.
func TestFinanceFormsNeedConfirmation(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_c", "確認測試股份有限公司", "2100")
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000099); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	csrf := b.signIn(e.finance)
	unconfirmed := func(path string, v url.Values) {
		t.Helper()
		v.Set("csrf", csrf)
		resp, page := b.post(path, v)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s without confirmation: %d", path, resp.StatusCode)
		}
		if got := attrOf(t, page, "input", "name", "confirm", "value"); got != "yes" {
			t.Fatalf("%s: the confirmation step carries confirm=%q", path, got)
		}
		for k, vs := range v {
			if k == "csrf" {
				continue
			}
			if got := attrOf(t, page, "input", "name", k, "value"); got != strings.TrimSpace(vs[0]) {
				t.Errorf("%s: the confirmation step sends %s=%q, want %q", path, k, got, vs[0])
			}
		}
	}
	confirmed := func(path string, v url.Values) {
		t.Helper()
		v.Set("csrf", csrf)
		v.Set("confirm", "yes")
		v.Set("once", randomToken())
		if resp, page := b.post(path, v); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s confirmed: %d %s", path, resp.StatusCode, page)
		}
	}

	// No Turnkey folder configured: no outbox button, and the form is refused.
	if _, page := b.get("/console/invoices"); len(elementsByID(t, page, "outbox-form")) != 0 || len(elementsByID(t, page, "close-form")) != 1 {
		t.Error("without a Turnkey folder the page should offer the close but no outbox")
	}
	if resp, _ := b.post("/console/invoices/outbox", url.Values{"csrf": {csrf}, "confirm": {"yes"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("outbox without a Turnkey folder: %d, want 404", resp.StatusCode)
	}

	unconfirmed("/console/invoices/close", url.Values{"month": {"2026-02"}})
	if n := len(e.ledger().Invoices("2026-02", "")); n != 0 {
		t.Fatalf("an unconfirmed close issued %d invoices", n)
	}
	confirmed("/console/invoices/close", url.Values{"month": {"2026-02"}})
	number := onlyInvoice(t, e.ledger(), "acct_c").Number

	unconfirmed("/console/invoices/ranges", url.Values{"period": {"2026-05"}, "prefix": {"CD"}, "from": {"30000000"}, "to": {"30000049"}})
	if rs := e.ledger().RangeStatus("2026-05"); len(rs.Ranges) != 0 {
		t.Fatalf("an unconfirmed range was recorded: %+v", rs)
	}
	confirmed("/console/invoices/ranges", url.Values{"period": {"2026-05"}, "prefix": {"CD"}, "from": {"30000000"}, "to": {"30000049"}})
	if rs := e.ledger().RangeStatus("2026-05"); rs.Size != 50 {
		t.Fatalf("confirmed range not recorded: %+v", rs)
	}

	unconfirmed("/console/invoices/"+number+"/allowances", url.Values{"amount": {"100"}, "reason": {"discount"}, "allowances": {"0"}})
	if inv, _ := e.ledger().Invoice(number); len(inv.Allowances) != 0 {
		t.Fatalf("an unconfirmed allowance was issued: %+v", inv.Allowances)
	}
	confirmed("/console/invoices/"+number+"/allowances", url.Values{"amount": {"100"}, "reason": {"discount"}, "allowances": {"0"}})
	inv, _ := e.ledger().Invoice(number)
	if len(inv.Allowances) != 1 {
		t.Fatalf("confirmed allowance missing")
	}
	allowance := inv.Allowances[0].Number
	// The account page, read from the projections, shows it as soon as the
	// form has answered: the handler waits for them.
	if _, page := b.get("/console/accounts/acct_c"); attrOf(t, page, "tr", "data-allowance", allowance, "data-allowance") == "" {
		t.Fatalf("right after the form, the account page does not list allowance %s", allowance)
	}

	unconfirmed("/console/allowances/"+allowance+"/void", url.Values{"reason": {"typo"}})
	if inv, _ := e.ledger().Invoice(number); inv.Allowances[0].Voided {
		t.Fatal("an unconfirmed allowance void was recorded")
	}
	confirmed("/console/allowances/"+allowance+"/void", url.Values{"reason": {"typo"}})

	unconfirmed("/console/invoices/"+number+"/void", url.Values{"reason": {"wrong buyer"}})
	if inv, _ := e.ledger().Invoice(number); inv.Voided {
		t.Fatal("an unconfirmed void was recorded")
	}
	confirmed("/console/invoices/"+number+"/void", url.Values{"reason": {"wrong buyer"}})
	if inv, _ := e.ledger().Invoice(number); !inv.Voided {
		t.Fatal("the confirmed void was not recorded")
	}

	// A refused action says why and changes nothing: an allowance on a
	// voided invoice.
	v := url.Values{"amount": {"1"}, "reason": {"late"}, "csrf": {csrf}, "confirm": {"yes"}, "once": {randomToken()}, "allowances": {"1"}}
	if resp, _ := b.post("/console/invoices/"+number+"/allowances", v); resp.StatusCode != http.StatusConflict {
		t.Errorf("allowance on a voided invoice: %d, want 409", resp.StatusCode)
	}

	// The MIG export downloads a zip with the period's F0401.
	resp, err := b.c.Get(e.srv.URL + "/console/invoices/export?message=F0401&period=2026-03")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || !strings.Contains(zr.File[0].Name, number) {
		t.Errorf("F0401 export holds %d files (%v), want the one of %s", len(zr.File), zr.File, number)
	}
}

// The outbox from the invoices page: pending documents are listed, marked
// when near their deadline, written to Turnkey's folders; what Turnkey
// sent leaves the list and what it refused shows with its reason.
// Auditors read the same page without any form.
func TestFinanceOutboxAndFilingList(t *testing.T) {
	turnkey := t.TempDir()
	e := buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) { d.TurnkeyDir = turnkey })
	e.febUsageB2C("acct_ok", "上傳成功股份有限公司", "525")
	e.febUsageB2C("acct_err", "上傳退回股份有限公司", "1050")
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000099); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(e.ctx, "2026-02", invoicing.CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	ok, bad := onlyInvoice(t, e.ledger(), "acct_ok").Number, onlyInvoice(t, e.ledger(), "acct_err").Number
	b := e.browser()
	csrf := b.signIn(e.finance)

	filing := func() map[string]map[string]string {
		t.Helper()
		resp, page := b.get("/console/invoices?month=2026-02")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("invoices page: %d", resp.StatusCode)
		}
		out := map[string]map[string]string{}
		for _, m := range elements(t, page, "tr", "data-document") {
			out[m["data-document"]] = m
		}
		return out
	}
	rows := filing()
	for _, n := range []string{ok, bad} {
		if r := rows["F0401-"+n]; r == nil || r["data-status"] != "pending" || r["data-due"] != "" {
			t.Fatalf("F0401 of %s listed as %v, want pending and not yet due", n, r)
		}
	}
	// B2C: uploaded within two days counted from the day after issue (15
	// March: until the end of the 17th, Taipei); on the 17th they are due.
	e.clock.mu.Lock()
	e.clock.t = time.Date(2026, 3, 17, 9, 0, 0, 0, projections.Taipei)
	e.clock.mu.Unlock()
	if r := filing()["F0401-"+ok]; r["data-due"] != "true" {
		t.Fatalf("F0401 of %s is not marked due on the last day of its window: %v", ok, r)
	}

	run := func() {
		t.Helper()
		if resp, page := b.post("/console/invoices/outbox", url.Values{"csrf": {csrf}, "confirm": {"yes"}, "once": {randomToken()}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("outbox: %d %s", resp.StatusCode, page)
		}
	}
	run()
	src := invoicing.TurnkeyDir(turnkey, invoicing.MessageF0401, "SRC")
	var okDoc, badDoc invoicing.Document
	for _, d := range e.ledger().Documents() {
		switch d.Number {
		case ok:
			okDoc = d
		case bad:
			badDoc = d
		}
	}
	for _, d := range []invoicing.Document{okDoc, badDoc} {
		if _, err := os.Stat(filepath.Join(src, d.FileName())); err != nil {
			t.Fatalf("the outbox did not write %s: %v", d.FileName(), err)
		}
	}
	// Turnkey sends one and refuses the other.
	move := func(d invoicing.Document, state string) {
		dir := invoicing.TurnkeyDir(turnkey, invoicing.MessageF0401, state)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(src, d.FileName()), filepath.Join(dir, d.FileName())); err != nil {
			t.Fatal(err)
		}
	}
	move(okDoc, "BAK")
	move(badDoc, "ERR")
	reason := "買方統一編號錯誤"
	if err := os.WriteFile(filepath.Join(invoicing.TurnkeyDir(turnkey, invoicing.MessageF0401, "ERR"),
		strings.TrimSuffix(badDoc.FileName(), ".xml")+".txt"), []byte(reason), 0o644); err != nil {
		t.Fatal(err)
	}
	run()
	for _, d := range e.ledger().Documents() {
		switch {
		case d.Message != invoicing.MessageF0401:
		case d.Number == ok && d.Status != invoicing.FilingUploaded, d.Number == bad && (d.Status != invoicing.FilingRejected || d.Reason != reason):
			t.Fatalf("recorded filing of %s: %s %q", d.Number, d.Status, d.Reason)
		}
	}
	rows = filing()
	if rows["F0401-"+ok] != nil {
		t.Errorf("the uploaded F0401 of %s is still listed", ok)
	}
	if r := rows["F0401-"+bad]; r == nil || r["data-status"] != "rejected" {
		t.Errorf("the rejected F0401 of %s is listed as %v", bad, r)
	}
	if _, page := b.get("/console/invoices?month=2026-02"); !strings.Contains(page, reason) {
		t.Error("the rejection's reason is not shown")
	}

	a := e.browser()
	a.signIn(e.auditor)
	_, page := a.get("/console/invoices?month=2026-02")
	for _, id := range []string{"reconciliation", "recon-total", "filing", "invoices", "month-totals", "export-form"} {
		if len(elementsByID(t, page, id)) == 0 {
			t.Errorf("the auditor's invoices page has no #%s", id)
		}
	}
	if forms := elements(t, page, "form", "action"); len(forms) != 0 {
		for _, f := range forms {
			if f["method"] == "post" && f["action"] != "/console/signout" {
				t.Errorf("the auditor's page offers the form %s", f["action"])
			}
		}
	}
}

func elementsByID(t *testing.T, page, id string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, m := range elements(t, page, "", "id") {
		if m["id"] == id {
			out = append(out, m)
		}
	}
	return out
}

// visibleText is a page's text, without tags.
func visibleText(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String()
}

var messageKey = regexp.MustCompile(`\b(?:invoices?|allowance|ranges?|close|outbox|export|mig|filing|recon|confirm|field|finance|title)\.[A-Za-z0-9.-]+`)

// Every text the invoice pages show exists in zh-TW and English: no page
// shows a message key, and each pending reason has its message.
func TestInvoicePagesSpeakBothLanguages(t *testing.T) {
	for reason, key := range reasons {
		if !known(key) {
			t.Errorf("reason %q has no message %s", reason, key)
		}
	}
	for k, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %s lacks a language", k)
		}
	}
	turnkey := t.TempDir()
	e := buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) { d.TurnkeyDir = turnkey })
	e.febUsage("acct_a", "語言測試股份有限公司", "2100")
	e.febUsage("acct_b", "語言測試二股份有限公司", "1050")
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000002); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(e.ctx, "2026-02", invoicing.CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	a, b := onlyInvoice(t, svc, "acct_a").Number, onlyInvoice(t, svc, "acct_b").Number
	if _, err := svc.IssueAllowance(e.ctx, a, 100, "discount"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Void(e.ctx, b, "wrong buyer"); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{e.finance, e.auditor} {
		br := e.browser()
		csrf := br.signIn(who)
		for _, lang := range []string{langZH, langEN} {
			br.get("/console/invoices?lang=" + lang)
			pages := map[string]string{}
			_, pages["invoices"] = br.get("/console/invoices?month=2026-02")
			if who == e.finance {
				for path, v := range map[string]url.Values{
					"/console/invoices/close":                {"month": {"2026-02"}},
					"/console/invoices/ranges":               {"period": {"2026-05"}, "prefix": {"CD"}, "from": {"1"}, "to": {"9"}},
					"/console/invoices/outbox":               {},
					"/console/invoices/" + a + "/void":       {"reason": {"x"}},
					"/console/invoices/" + a + "/allowances": {"amount": {"1"}, "reason": {"x"}},
				} {
					v.Set("csrf", csrf)
					_, pages[path] = br.post(path, v)
				}
			}
			for name, page := range pages {
				text := visibleText(t, page)
				if k := messageKey.FindString(text); k != "" {
					t.Errorf("%s in %s shows the key %q", name, lang, k)
				}
				if lang == langZH && name == "invoices" && !strings.Contains(text, "銷售額") {
					t.Errorf("the zh-TW invoices page does not say 銷售額")
				}
				if lang == langEN && name == "invoices" && !strings.Contains(text, "Reconciliation") {
					t.Errorf("the English invoices page does not say Reconciliation")
				}
			}
		}
	}
}
