package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// An auditor's filter that can match nothing by mistake is refused, where
// it answered an empty export that read as whole: an event type that does
// not exist (a typo of usage.recorded, say) or a time range that ends
// before it starts. The console's log page says so in its language.
func TestAuditFiltersThatCannotMatchAreRefused(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_f", "篩選公司", domain.PlanStarter)
	e.sync()
	for _, path := range []string{"/admin/api/audit/export", "/admin/api/audit/events"} {
		for q, says := range map[string]string{
			"?type=key.isued":                           `key.isued\" does not exist`,
			"?since=2026-12-10&until=2026-12-01":        "must come after",
			"?since=2026-12-01T10:00Z&until=2026-12-01": "is not RFC 3339",
		} {
			code, body := e.call("GET", path+q, e.auditor, nil)
			if code != http.StatusBadRequest || !strings.Contains(string(body), says) {
				t.Errorf("GET %s%s: %d %.300s, want 400 saying %q", path, q, code, body, says)
			}
		}
		if code, body := e.call("GET", path+"?type=account.opened&since=2026-01-01&until=2099-01-01", e.auditor, nil); code != http.StatusOK || !strings.Contains(string(body), "acct_f") {
			t.Errorf("GET %s with a known type and a forward range: %d %.300s", path, code, body)
		}
	}
	b := e.browser()
	b.signIn(e.auditor)
	for _, lang := range []string{langZH, langEN} {
		resp, page := b.get("/console/audit?type=key.isued&lang=" + lang)
		// The quoted type is marked up apart: compare without spaces.
		squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
		want := squeeze(strings.NewReplacer("{1}", `"key.isued"`).Replace(tr(lang, "err.event.type")))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(squeeze(visibleText(t, page)), want) {
			t.Errorf("%s: %d, want %q in %s", lang, resp.StatusCode, want, visibleText(t, page))
		}
	}
}
