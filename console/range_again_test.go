package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A 字軌 range added a second time records nothing, and the console said
// "Range added." all the same: it says the range was already there and
// nothing was changed, in either language.
func TestRangeAddedAgainSaysNothingChanged(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	csrf := b.signIn(e.finance)
	add := func() string {
		t.Helper()
		return postFlash(t, b, "/console/invoices/ranges", url.Values{"csrf": {csrf}, "confirm": {"yes"}, "once": {randomToken()},
			"period": {"2026-03"}, "prefix": {"AB"}, "from": {"12345000"}, "to": {"12345099"}})
	}
	if got := add(); got != "range.ok" {
		t.Fatalf("a new range: flash %q, want range.ok", got)
	}
	if got := add(); got != "range.dup" {
		t.Fatalf("the same range again: flash %q, want range.dup", got)
	}
	if n := countEvents(e, domain.TypeInvoiceRangeSet); n != 1 {
		t.Fatalf("%d ranges recorded, want 1", n)
	}
	for lang, want := range map[string]string{langZH: "已設定過", langEN: "already there: nothing was changed"} {
		_, page := b.get("/console/invoices?flash=range.dup&lang=" + lang)
		if text := visibleText(t, page); !strings.Contains(text, want) || strings.Contains(text, tr(lang, "range.ok")) {
			t.Errorf("%s: the page after the same range again does not say %q", lang, want)
		}
	}
}

// A range for a period that has ended is taken, as the CLI takes it (the
// numbers a restore finds used there, or its blanks to report), but no
// invoice issued now takes its numbers: the confirmation step warns of it,
// and says nothing of the kind for the current period.
func TestRangeOfAnEndedPeriodWarnsFirst(t *testing.T) {
	e := newEnv(t, false) // mid-March 2026: period 2026-01 has ended
	b := e.browser()
	csrf := b.signIn(e.finance)
	step := func(period string) string {
		t.Helper()
		resp, page := b.post("/console/invoices/ranges", url.Values{"csrf": {csrf}, "period": {period}, "prefix": {"AB"},
			"from": {"12345000"}, "to": {"12345099"}})
		if resp.StatusCode != http.StatusOK || len(elementsByID(t, page, "confirm-step")) != 1 {
			t.Fatalf("range of %s: %d, want the confirmation step", period, resp.StatusCode)
		}
		return page
	}
	if page := step("2026-01"); !strings.Contains(page, `data-warning="confirm.range.ended"`) ||
		!strings.Contains(visibleText(t, page), tr(langZH, "confirm.range.ended")) {
		t.Fatalf("the step for period 2026-01, ended, does not warn:\n%s", visibleText(t, page))
	}
	for _, period := range []string{"2026-03", "2026-05"} {
		if page := step(period); strings.Contains(page, "confirm.range.ended") {
			t.Fatalf("the step for period %s warns that it has ended", period)
		}
	}
	if got := postFlash(t, b, "/console/invoices/ranges", url.Values{"csrf": {csrf}, "confirm": {"yes"}, "once": {randomToken()},
		"period": {"2026-01"}, "prefix": {"AB"}, "from": {"12345000"}, "to": {"12345099"}}); got != "range.ok" {
		t.Fatalf("the range of the ended period, confirmed: flash %q", got)
	}
	if rs := e.ledger().RangeStatus("2026-01"); rs.Size != 100 {
		t.Fatalf("period 2026-01 holds %d numbers, want the range's 100", rs.Size)
	}
}
