package console

import (
	"net/http"
	"net/url"
	"testing"
)

// A 字軌 range typed with a Chinese input method comes in full-width
// digits (１２３４５０００): the form refused it with "from and to must be
// eight-digit numbers", which they were, while every amount field of the
// console reads full-width digits as the same number.
func TestRangeFormReadsFullWidthDigits(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	csrf := b.signIn(e.finance)
	v := url.Values{"csrf": {csrf}, "confirm": {"yes"}, "once": {randomToken()},
		"period": {"2026-05"}, "prefix": {"ｃｄ"}, "from": {"３０００００００"}, "to": {" ３０００００４９ "}}
	if resp, page := b.post("/console/invoices/ranges", v); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("full-width range: %d %s", resp.StatusCode, visibleText(t, page))
	}
	rs := e.ledger().RangeStatus("2026-05")
	if rs.Size != 50 || len(rs.Ranges) != 1 || rs.Ranges[0].Prefix != "CD" || rs.Ranges[0].From != 30000000 {
		t.Fatalf("range recorded as %+v, want CD30000000-CD30000049", rs)
	}
}
