package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// The quote builder's refusals name the field by its label on the page,
// in the page's language: "contact is at most 100 characters" reads
// 「聯絡人 最多 100 個字」 on a Chinese page, not 「contact 最多 100 個字」.
func TestQuoteRefusalsNameTheFieldInThePagesLanguage(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { d.TurnkeyDir = t.TempDir() })
	finance := e.browser()
	csrf := finance.signIn(e.finance)
	before := len(e.allEvents())
	for _, c := range []struct {
		field, value string
		zh, en       string
	}{
		{"contact", strings.Repeat("林", 101), "聯絡人最多100個字", "The Contact is at most 100 characters"},
		{"agency_address", "臺北市\a信義區", "地址含有控制字元", "The Address holds the control character"},
		{"remarks", strings.Repeat("行\n", 31), "備註最多30行", "The Remarks has at most 30 lines"},
		{"item_spec", strings.Repeat("規", 201), "第1個品項的規格最多200個字", "the Specification is at most 200 characters"},
		{"item_qty", "1e3", "（數量）", "(Quantity)"},
	} {
		for lang, want := range map[string]string{langZH: c.zh, langEN: c.en} {
			form := url.Values{"csrf": {csrf}, "once": {"f-" + c.field + lang}, "agency": {"臺北市政府"}, "item_name": {"AI API"},
				"item_qty": {"1"}, "item_price": {"100"}, "item_unit": {"月"}}
			form.Set(c.field, c.value)
			resp, page := finance.post("/console/quotes?lang="+lang, form)
			text := strings.Join(strings.Fields(visibleText(t, page)), "")
			if lang == langEN {
				text = strings.Join(strings.Fields(visibleText(t, page)), " ")
			}
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(text, want) {
				t.Errorf("%s %s: %d, want %q in %q", lang, c.field, resp.StatusCode, want, text)
			}
		}
	}
	if after := e.allEvents(); len(after) != before {
		t.Fatalf("refused quotes recorded %d events", len(after)-before)
	}
}
