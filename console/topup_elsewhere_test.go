package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// A bank transfer's reference that another account holds is refused on
// the admin API (409, naming that account) and on the console's top-up
// form (in the page's language, before and after the question), and
// nothing is recorded.
func TestTopUpReferenceHeldByAnotherAccountIsRefused(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_holder", "先登錄公司", domain.PlanStarter)
	e.openAccount("acct_second", "後登錄公司", domain.PlanStarter)
	if code, body := e.call("POST", "/admin/api/accounts/acct_holder/topups", e.finance,
		map[string]any{"amount": "5000", "method": domain.MethodBankTransfer, "reference": "TX-20261128-001"}); code != http.StatusCreated {
		t.Fatalf("first transfer: %d %s", code, body)
	}

	code, body := e.call("POST", "/admin/api/accounts/acct_second/topups", e.finance,
		map[string]any{"amount": "5000", "method": domain.MethodBankTransfer, "reference": "tx-20261128-001"})
	wantAPI(t, code, body, http.StatusConflict, `already recorded on account acct_holder`)

	b := e.browser()
	csrf := b.signIn(e.finance)
	for _, c := range []struct{ lang, says string }{
		{langZH, "參考編號「tx-20261128-001」已登錄於帳戶 acct_holder"},
		{langEN, "Reference tx-20261128-001 is already recorded on account acct_holder"},
	} {
		b.get("/console/accounts?lang=" + c.lang)
		for _, confirm := range []bool{false, true} {
			v := url.Values{"csrf": {csrf}, "amount": {"5000"}, "method": {domain.MethodBankTransfer}, "reference": {"tx-20261128-001"}}
			if confirm {
				v.Set("confirm", "yes")
			}
			resp, page := b.post("/console/accounts/acct_second/topups", v)
			msg, untranslated := errorOf(t, page)
			if resp.StatusCode != http.StatusConflict || untranslated || !strings.Contains(strings.Join(strings.Fields(msg), " "), c.says) {
				t.Errorf("%s form (confirmed %v): %d %q (general text: %v), want %q", c.lang, confirm, resp.StatusCode, msg, untranslated, c.says)
			}
		}
	}
	if n := topUpEntries(t, e, "acct_second"); n != 0 {
		t.Fatalf("%d top-ups recorded on the second account, want none", n)
	}
}

// A reference recorded in other capitals, refused for another amount or
// method, or held by another account, reads in the page's language.
func TestTopUpReferenceRefusalsInOtherCapitalsAreTranslated(t *testing.T) {
	for _, c := range []struct{ msg, zh, en string }{
		{`conflict: reference "tx-1" was already recorded (as "TX-1") with amount 500 as bank-transfer`,
			"參考編號「tx-1」已登錄過，金額為 500", "Reference tx-1 was already recorded, with amount 500"},
		{`conflict: reference "tx-1" is already recorded on account acct_a (as "TX-1") with amount 500 as credit-card: a payment credits one account`,
			"參考編號「tx-1」已登錄於帳戶 acct_a（金額 500，方式 信用卡）", "Reference tx-1 is already recorded on account acct_a (amount 500, as Card)"},
		{`conflict: reference "TX-1" is already recorded on another account: a payment credits one account`,
			"參考編號「TX-1」已登錄於其他帳戶", "Reference TX-1 is already recorded on another account"},
	} {
		if text, detail := errorText(langZH, http.StatusConflict, c.msg); detail != "" || !strings.Contains(messageText(t, text), c.zh) {
			t.Errorf("zh %q (detail %q), want %q", text, detail, c.zh)
		}
		if text, detail := errorText(langEN, http.StatusConflict, c.msg); detail != "" || !strings.Contains(messageText(t, text), c.en) {
			t.Errorf("en %q (detail %q), want %q", text, detail, c.en)
		}
	}
}

// The refusals of a reference already recorded name the method it was
// recorded as in the page's words, in either language: for a payment
// recorded before references were one account's (its event's ID is its
// account's and its reference's), for one recorded since, and for the
// same reference on its own account as another method.
func TestTopUpReferenceRefusalsNameTheMethodInThePagesWords(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_holder", "先登錄公司", domain.PlanStarter)
	e.openAccount("acct_second", "後登錄公司", domain.PlanStarter)
	earlier := &domain.CreditsToppedUp{AccountID: "acct_holder", Amount: decimal.NewFromInt(3000), Method: domain.MethodBankTransfer, Reference: "BANK-OLD-7"}
	d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, "acct_holder", "BANK-OLD-7"), e.clock.Now(), earlier)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cap.Append(e.ctx, domain.TopUpStream("acct_holder"), eventstore.Any(), d); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_holder", Amount: decimal.NewFromInt(800), Method: domain.MethodCard, Reference: "CARD-NEW-8"}); err != nil {
		t.Fatal(err)
	}
	e.sync()

	b := e.browser()
	csrf := b.signIn(e.finance)
	for _, lang := range []string{langZH, langEN} {
		b.get("/console/accounts?lang=" + lang)
		for _, c := range []struct {
			account, method, ref, recorded string
		}{
			{"acct_second", domain.MethodBankTransfer, "bank-old-7", domain.MethodBankTransfer}, // held elsewhere, recorded earlier
			{"acct_second", domain.MethodBankTransfer, "card-new-8", domain.MethodCard},         // held elsewhere, recorded since
			{"acct_holder", domain.MethodCard, "BANK-OLD-7", domain.MethodBankTransfer},         // its own, as another method
		} {
			for _, confirm := range []bool{false, true} {
				v := url.Values{"csrf": {csrf}, "amount": {"3000"}, "method": {c.method}, "reference": {c.ref}}
				if confirm {
					v.Set("confirm", "yes")
				}
				resp, page := b.post("/console/accounts/"+c.account+"/topups", v)
				msg, untranslated := errorOf(t, page)
				if resp.StatusCode != http.StatusConflict || untranslated {
					t.Fatalf("%s %s on %s (confirmed %v): %d %q (general text: %v)", lang, c.ref, c.account, confirm, resp.StatusCode, msg, untranslated)
				}
				if !strings.Contains(msg, tr(lang, "method."+c.recorded)) {
					t.Errorf("%s %s on %s (confirmed %v): %q does not name the method as %q", lang, c.ref, c.account, confirm, msg, tr(lang, "method."+c.recorded))
				}
				for _, m := range []string{domain.MethodBankTransfer, domain.MethodCard} {
					if strings.Contains(msg, m) {
						t.Errorf("%s %s on %s (confirmed %v): %q shows the method's code %s", lang, c.ref, c.account, confirm, msg, m)
					}
				}
			}
		}
	}
	if n := topUpEntries(t, e, "acct_second"); n != 0 {
		t.Fatalf("%d top-ups recorded on the second account, want none", n)
	}
}
