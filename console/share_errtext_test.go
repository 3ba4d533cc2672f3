package console

import (
	"testing"
)

// A management key's share refusal names its period in the page's
// language, a limit that never resets included.
func TestShareRefusalNamesItsPeriodInThePagesLanguage(t *testing.T) {
	for _, c := range []struct {
		period string
		zh, en []string
	}{
		{"monthly", []string{"每月消費上限合計 NT$6.00", "尚餘 NT$4.00"}, []string{"have monthly limits adding up to NT$6.00"}},
		{"never-resetting", []string{"不重置的消費上限合計 NT$6.00", "尚餘 NT$4.00"}, []string{"have never-resetting limits adding up to NT$6.00"}},
	} {
		msg := "beyond the key's scope: the keys this key made have " + c.period + " limits adding up to NT$6.00 of its own NT$10.00, so NT$4.00 is left for another (NT$5.00 asked): lower or delete one of them first"
		if text, detail := errorText(langZH, 403, msg); detail != "" || !containsAll(messageText(t, text), c.zh) {
			t.Errorf("%s: zh %q (detail %q), want %q", c.period, text, detail, c.zh)
		}
		if text, _ := errorText(langEN, 403, msg); !containsAll(messageText(t, text), c.en) {
			t.Errorf("%s: en %q, want %q", c.period, text, c.en)
		}
	}
}
