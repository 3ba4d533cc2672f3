package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// errorOf is what an error page tells: its message, and whether it fell
// back to a general text with the original message in a details element.
func errorOf(t *testing.T, page string) (message string, untranslated bool) {
	t.Helper()
	return elementText(t, page, "error"), strings.Contains(page, `class="error-detail"`)
}

// The key forms' refusals of what a customer may type (a name that is not
// UTF-8, a last day gone by or not a date, a limit finer than a cent) read
// in the console's language, as their other refusals do, and write nothing.
func TestKeyFormRefusalsInTheConsolesLanguage(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, child := managedAccount(e, "acct_words")
	b := e.browser()
	csrf := b.signIn(mgmt)
	ok := url.Values{"name": {"批次"}, "spend_limit": {"10"}, "spend_period": {"monthly"}}
	with := func(k, v string) url.Values {
		f := url.Values{"csrf": {csrf}}
		for n, vs := range ok {
			f[n] = vs
		}
		f.Set(k, v)
		return f
	}
	for _, c := range []struct {
		field, value string
		says         string
		change       bool // the change form takes the field too
	}{
		{"name", "批次\xff", "金鑰名稱須為 UTF-8 文字", true},
		{"spend_limit", "1.234", "消費上限最多到小數第二位（輸入 NT$1.234）", true},
		{"expires_on", "2026-03-01", "金鑰的最後使用日須為今天或之後", false},
		{"expires_on", "3月1日", "「3月1日」不是日期（expires_on，格式 YYYY-MM-DD）", false},
	} {
		keys := len(e.models.Keys.ByAccount("acct_words"))
		resp, page := b.post("/console/accounts/acct_words/keys", with(c.field, c.value))
		msg, untranslated := errorOf(t, page)
		if resp.StatusCode != http.StatusBadRequest || untranslated || !strings.Contains(msg, c.says) {
			t.Errorf("create with %s %q: %d %q (general text: %v), want %q", c.field, c.value, resp.StatusCode, msg, untranslated, c.says)
		}
		if c.change {
			resp, page = b.post("/console/keys/"+child, with(c.field, c.value))
			msg, untranslated = errorOf(t, page)
			if resp.StatusCode != http.StatusBadRequest || untranslated || !strings.Contains(msg, c.says) {
				t.Errorf("change with %s %q: %d %q (general text: %v), want %q", c.field, c.value, resp.StatusCode, msg, untranslated, c.says)
			}
		}
		e.sync()
		if got := len(e.models.Keys.ByAccount("acct_words")); got != keys {
			t.Errorf("%s %q: %d keys issued", c.field, c.value, got-keys)
		}
		if k := e.key("acct_words", child); k.Name != "app" || !k.SpendLimit.Equal(decimal.NewFromInt(50)) {
			t.Errorf("%s %q changed the key: %+v", c.field, c.value, k)
		}
	}
}

// 00000000 passes the 統一編號 checksum, but it is the number an e-invoice
// gives a buyer who has none: taken as a company's, the next invoice would
// go B2B to nobody, without the carrier or donation code the customer
// meant. The carrier form, the API and account opening refuse it, in the
// console's language, and write nothing.
func TestConsumersPlaceholderIsNoTaxID(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, _ := managedAccount(e, "acct_zero")
	stream := domain.AccountStream("acct_zero")
	n := e.streamLen(stream)

	b := e.browser()
	csrf := b.signIn(mgmt)
	resp, page := b.post("/console/accounts/acct_zero/invoice-carrier", url.Values{"csrf": {csrf}, "tax_id": {"00000000"}})
	const says = "「00000000」是電子發票中無統一編號買受人的代碼"
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("carrier form: %d, want 400", resp.StatusCode)
	} else if msg, untranslated := errorOf(t, page); untranslated || !strings.Contains(msg, says) {
		t.Errorf("carrier form: %q (general text: %v), want %q", msg, untranslated, says)
	}
	if code, body := e.call("POST", "/admin/api/accounts/acct_zero/invoice-carrier", mgmt, map[string]any{"tax_id": "00000000"}); code != http.StatusBadRequest {
		t.Errorf("carrier API: %d %s", code, body)
	}
	if code, body := e.call("POST", "/admin/api/accounts", e.admin, map[string]any{"organisation": "零號公司", "tax_id": "00000000", "plan": "starter"}); code != http.StatusBadRequest {
		t.Errorf("opening an account: %d %s", code, body)
	}
	e.sync()
	if got := e.streamLen(stream); got != n {
		t.Errorf("refused settings wrote %d events", got-n)
	}
	for _, a := range e.models.Accounts.Opened() {
		if a.Organisation == "零號公司" {
			t.Errorf("account opened with 統一編號 %q", a.TaxID)
		}
	}
	// A real company's number is still taken.
	if resp, _ := b.post("/console/accounts/acct_zero/invoice-carrier", url.Values{"csrf": {csrf}, "tax_id": {"04595257"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a valid 統一編號: %d", resp.StatusCode)
	}
}
