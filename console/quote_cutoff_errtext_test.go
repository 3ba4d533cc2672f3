package console

import (
	"net/http"
	"strings"
	"testing"
)

// The refusal of a replacement whose reason is not the one its cut-off
// first sending withdrew the old quote with reads in the page's language.
func TestReplacementReasonRefusalSpeaksChinese(t *testing.T) {
	msg := `invoicing: conflict: quote Q-20261220-T8C2AF was withdrawn on 2026-12-31 for replacement Q-20261231-QYC4E7, which was never issued, with the reason "機關名稱更正": send the replacement with that reason`
	zh, _ := errorText(langZH, http.StatusConflict, msg)
	if text := messageText(t, zh); !strings.Contains(text, "報價單 Q-20261220-T8C2AF 已於 2026-12-31 為取代報價單 Q-20261231-QYC4E7 撤回") || !strings.Contains(text, "機關名稱更正") {
		t.Fatalf("zh: %q", text)
	}
	en, _ := errorText(langEN, http.StatusConflict, msg)
	if text := messageText(t, en); !strings.Contains(text, "send the replacement with that reason") {
		t.Fatalf("en: %q", text)
	}
}
