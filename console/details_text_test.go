package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// An account's address and contact were kept whatever they held: a NUL,
// a right-to-left override that makes the text read as another, a line
// break, a megabyte. They are refused on opening and on correction, on
// the API and on the console's form (naming the field in the page's
// language), and nothing is recorded.
func TestAccountAddressAndContactArePlainBoundedText(t *testing.T) {
	e := build(t, false, true)
	e.openAccount("acct_d", "地址公司", domain.PlanBusiness)
	e.sync()
	before := len(e.allEvents())
	bad := map[string]string{"NUL": "臺北市\x00信義區", "RLO": "臺北市\u202e區義信", "line break": "王小明\nBcc: x@y.tw", "101 characters": strings.Repeat("址", 101)}
	for name, v := range bad {
		for _, field := range []string{"address", "contact"} {
			body := `{"organisation":"新公司","plan":"business","` + field + `":` + jsonString(v) + `}`
			code, resp := e.send(http.MethodPost, "/admin/api/accounts", e.admin, strings.NewReader(body))
			if code != http.StatusBadRequest || !strings.Contains(string(resp), field) {
				t.Errorf("open with %s %s: %d %s", field, name, code, resp)
			}
			body = `{"` + field + `":` + jsonString(v) + `,"reason":"更正"}`
			code, resp = e.send(http.MethodPost, "/admin/api/accounts/acct_d/details", e.admin, strings.NewReader(body))
			if code != http.StatusBadRequest || !strings.Contains(string(resp), field) {
				t.Errorf("correct %s to %s: %d %s", field, name, code, resp)
			}
		}
	}
	admin := e.browser()
	csrf := admin.signIn(e.admin)
	for lang, want := range map[string]string{langZH: "地址最多100個字", langEN: "The Address is at most 100 characters"} {
		resp, page := admin.post("/console/accounts?lang="+lang, url.Values{"csrf": {csrf}, "once": {"open-" + lang}, "organisation": {"新公司"},
			"plan": {"business"}, "address": {strings.Repeat("址", 101)}})
		text := strings.Join(strings.Fields(visibleText(t, page)), "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(text, strings.ReplaceAll(want, " ", "")) {
			t.Errorf("%s form: %d, want %q in %q", lang, resp.StatusCode, want, text)
		}
	}
	if after := e.allEvents(); len(after) != before {
		t.Fatalf("refusals recorded %d events", len(after)-before)
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20:
			b.WriteString(`\u00` + string("0123456789abcdef"[r>>4]) + string("0123456789abcdef"[r&15]))
		default:
			b.WriteRune(r)
		}
	}
	return b.String() + `"`
}
