package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing"
)

// A close whose number range ran out after two of three invoices showed
// "此操作與目前狀態衝突，未做任何變更" (nothing was changed), while two
// invoices had been issued. The page says how many were issued and that
// the rest wait for a range, and the close sent again once one is added
// issues the third.
func TestCloseWhoseRangeRunsOutSaysWhatWasIssued(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_a", "甲股份有限公司", "2100")
	e.febUsage("acct_b", "乙股份有限公司", "2100")
	e.febUsage("acct_c", "丙股份有限公司", "2100")
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000001); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	csrf := b.signIn(e.finance)
	close := func() (*http.Response, string) {
		return b.post("/console/invoices/close", url.Values{"csrf": {csrf}, "confirm": {"yes"}, "once": {randomToken()}, "month": {"2026-02"}})
	}
	resp, page := close()
	text := visibleText(t, page)
	if n := len(e.ledger().Invoices("", "")); n != 2 {
		t.Fatalf("the close issued %d invoices, want the range's 2", n)
	}
	if resp.StatusCode != http.StatusConflict || strings.Contains(text, "未做任何變更") || !strings.Contains(text, "已開立 2 張") {
		t.Fatalf("the close that issued 2 invoices answered %d: %s", resp.StatusCode, text)
	}
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000002, 10000049); err != nil {
		t.Fatal(err)
	}
	if resp, page := close(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the close again: %d %s", resp.StatusCode, visibleText(t, page))
	}
	if n := len(e.ledger().Invoices("", "")); n != 3 {
		t.Fatalf("after a range was added the close issued %d invoices in all, want 3", n)
	}
}
