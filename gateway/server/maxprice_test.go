package server

import (
	"net/http"
	"strings"
	"testing"
)

// A provider.max_price that is no number (a word, an exponent past what a
// price may have) was refused with the decimal library's own message,
// quoting the value sent and naming neither the field nor what it must be.
func TestMaxPriceThatIsNoNumberNamesTheField(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, v := range []string{`"abc"`, `"12,5"`, `1e99999`, `true`, `{}`} {
		for _, field := range []string{"prompt", "completion"} {
			resp, b := h.post(`{"model":"test/openai","provider":{"max_price":{"` + field + `":` + v + `}},"messages":[{"role":"user","content":"hi"}]}`)
			e := decodeError(t, b)
			msg := e.Error.Message
			if resp.StatusCode != http.StatusBadRequest || e.Error.Metadata["param"] != "provider.max_price."+field ||
				!strings.Contains(msg, "provider.max_price."+field) || !strings.Contains(msg, "decimal string") ||
				strings.Contains(msg, strings.Trim(v, `"`)) || strings.Contains(msg, "Decode") {
				t.Errorf("%s %s: %d %s", field, v, resp.StatusCode, b)
			}
		}
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("%d requests reached the upstream", n)
	}
}
