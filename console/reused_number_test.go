package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// A number issued again a year later (字軌 letters recycle): the invoices
// page and the account page link and post to each invoice by its period
// and number, and an allowance made from the page lands on the invoice
// shown, not on the later one with the same number.
func TestReusedNumberFormsNameThePeriod(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_c", "確認測試股份有限公司", "2100")
	svc := e.deps.Invoices.(*invoicing.Service)
	// 2027-03 is a year ahead of the clock: meant.
	for _, period := range []string{"2026-03", "2027-03"} {
		if err := svc.AssignRange(e.ctx, period, "AB", 10000000, 10000099, invoicing.FarPeriodMeant); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Close(e.ctx, "2026-02", invoicing.CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	key, _ := e.issueKey("acct_c")
	e.request("acct_c", key, "openai/gpt-4o-mini", "app", time.Date(2027, 2, 10, 12, 0, 0, 0, projections.Taipei), 1000, 500, "525")
	e.sync()
	e.clock.set(time.Date(2027, 3, 2, 10, 0, 0, 0, projections.Taipei))
	if _, err := svc.Close(e.ctx, "2027-02", invoicing.CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if !svc.NumberReused("AB10000000") {
		t.Fatal("AB10000000 was not issued in both periods")
	}

	b := e.browser()
	csrf := b.signIn(e.finance)
	_, page := b.get("/console/invoices?month=2026-02")
	for _, want := range []string{`href="/admin/api/invoices/2026-03-AB10000000/pdf"`, `action="/console/invoices/2026-03-AB10000000/allowances"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the February 2026 invoices page lacks %s", want)
		}
	}
	if _, page := b.get("/console/accounts/acct_c"); !strings.Contains(page, `href="/admin/api/invoices/2026-03-AB10000000/pdf"`) ||
		!strings.Contains(page, `href="/admin/api/invoices/2027-03-AB10000000/pdf"`) {
		t.Error("the account page does not link each invoice by its period")
	}
	v := url.Values{"amount": {"100"}, "reason": {"discount"}, "allowances": {"0"}, "csrf": {csrf}, "confirm": {"yes"}, "once": {randomToken()}}
	if resp, page := b.post("/console/invoices/2026-03-AB10000000/allowances", v); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("allowance: %d %s", resp.StatusCode, page)
	}
	old, err := e.ledger().Invoice("2026-03-AB10000000")
	if err != nil || len(old.Allowances) != 1 {
		t.Fatalf("the 2026 invoice: %d allowances, %v", len(old.Allowances), err)
	}
	if cur, _ := e.ledger().Invoice("2027-03-AB10000000"); len(cur.Allowances) != 0 {
		t.Errorf("the 2027 invoice took the allowance: %+v", cur.Allowances)
	}
}
