package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// The account owner (a management key) sets the invoice carrier or donation
// code by API, and finance does for them; an inference key does not. The
// format is checked at the door with the usual error shape.
func TestAPIInvoiceCarrier(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_c", "載具公司", domain.PlanStarter)
	e.openAccount("acct_x", "別人", domain.PlanStarter)
	_, inference := e.issueKey("acct_c")
	_, secret, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_c", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	if code, body := e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", inference, map[string]any{"carrier": "/ABC1234"}); code != http.StatusForbidden {
		t.Fatalf("inference key sets a carrier: %d %s", code, body)
	}
	code, body := e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", secret, map[string]any{"carrier": "/AB_1234"})
	var bad map[string]any
	if code != http.StatusBadRequest || json.Unmarshal(body, &bad) != nil || !strings.Contains(string(body), "mobile barcode") {
		t.Fatalf("bad carrier: %d %s", code, body)
	}
	if code, body = e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", secret, map[string]any{"donation_code": "12"}); code != http.StatusBadRequest {
		t.Fatalf("bad donation code: %d %s", code, body)
	}
	if code, body = e.call("POST", "/admin/api/accounts/acct_x/invoice-carrier", secret, map[string]any{"carrier": "/ABC1234"}); code != http.StatusNotFound {
		t.Fatalf("another account's carrier: %d %s", code, body)
	}
	code, body = e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", secret, map[string]any{"carrier": "/abc1234"})
	if code != http.StatusOK || !strings.Contains(string(body), `"carrier":"/ABC1234"`) {
		t.Fatalf("good carrier: %d %s", code, body)
	}
	code, body = e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", e.finance, map[string]any{"donation_code": "168001"})
	if code != http.StatusOK || !strings.Contains(string(body), `"donation_code":"168001"`) {
		t.Fatalf("finance sets a donation code: %d %s", code, body)
	}
}

// The carrier form's refusals read in the page's language, each problem
// of a form with several named; and codes typed with a Chinese input
// method's full-width characters (０４５９５２５７, ／ＡＢＣ＋１２３) are read
// as the codes they are.
func TestCarrierFormInBothLanguagesAndFullWidth(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, _ := managedAccount(e, "acct_carrier")
	b := e.browser()
	csrf := b.signIn(mgmt)
	post := func(lang string, v url.Values) (*http.Response, string) {
		t.Helper()
		v.Set("csrf", csrf)
		resp, page := b.post("/console/accounts/acct_carrier/invoice-carrier?lang="+lang, v)
		return resp, visibleText(t, page)
	}
	for _, c := range []struct {
		form url.Values
		keys []string
	}{
		{url.Values{"tax_id": {"12345678"}}, []string{"err.carrier.taxid"}},
		{url.Values{"carrier": {"/AB"}}, []string{"err.carrier.code"}},
		{url.Values{"donation_code": {"12"}}, []string{"err.carrier.donation"}},
		{url.Values{"tax_id": {"04595257"}, "donation_code": {"859"}}, []string{"err.carrier.b2b"}},
		{url.Values{"carrier": {"/AB"}, "donation_code": {"1"}}, []string{"err.carrier.both", "err.carrier.code", "err.carrier.donation"}},
	} {
		for _, lang := range []string{langZH, langEN} {
			resp, text := post(lang, c.form)
			if resp.StatusCode != http.StatusBadRequest || strings.Contains(text, tr(lang, "err.detail")) {
				t.Errorf("%s %v: %d, untranslated: %s", lang, c.form, resp.StatusCode, text)
				continue
			}
			for _, k := range c.keys {
				want := tr(lang, k)
				if i := strings.IndexAny(want, "「{"); i > 0 {
					want = want[:i] // the text before the code it quotes
				}
				if want == k || !strings.Contains(text, want) {
					t.Errorf("%s %v: no %q in %s", lang, c.form, want, text)
				}
			}
		}
	}

	for _, c := range []struct {
		form                    url.Values
		taxID, carrier, donated string
	}{
		{url.Values{"tax_id": {"０４５９５２５７"}}, "04595257", "", ""},
		{url.Values{"carrier": {"／ａｂｃ＋１２３"}}, "", "/ABC+123", ""},
		{url.Values{"donation_code": {"　８５９　"}}, "", "", "859"},
	} {
		if resp, text := post(langZH, c.form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%v: %d %s", c.form, resp.StatusCode, text)
		}
		set, ok := e.lastEvent(domain.AccountStream("acct_carrier")).(*domain.InvoiceCarrierSet)
		if !ok || set.TaxID == nil || *set.TaxID != c.taxID || set.Carrier != c.carrier || set.DonationCode != c.donated {
			t.Errorf("%v recorded as %#v", c.form, set)
		}
	}
}

// A limit above what the ledgers can check, or finer than the cent every
// page shows, is refused in the page's language.
func TestLimitRefusalsInBothLanguages(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_big", "上限公司", domain.PlanBusiness)
	_, boss, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_big", Name: "boss", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	owner, finance := e.browser(), e.browser()
	ocsrf, fcsrf := owner.signIn(boss), finance.signIn(e.finance)
	for _, lang := range []string{langZH, langEN} {
		for _, c := range []struct {
			b    *browser
			path string
			form url.Values
			key  string
			arg  string // the message's {1}
		}{
			{owner, "/console/accounts/acct_big/keys", url.Values{"csrf": {ocsrf}, "name": {"大"}, "spend_limit": {"2000000000"}, "spend_period": {"monthly"}}, "err.spendlimit.max", "1,000,000,000"},
			{finance, "/console/accounts/acct_big/credit-limit", url.Values{"csrf": {fcsrf}, "credit_limit": {"2000000000"}}, "err.creditlimit.max", "1,000,000,000"},
			{finance, "/console/accounts/acct_big/credit-limit", url.Values{"csrf": {fcsrf}, "credit_limit": {"1000.005"}}, "err.creditlimit.cents", "1000.005"},
		} {
			resp, page := c.b.post(c.path+"?lang="+lang, c.form)
			text := elementText(t, page, "error")
			want := strings.ReplaceAll(tr(lang, c.key), "{1}", c.arg)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(text, want) {
				t.Errorf("%s %s: %d, want %q in %s", lang, c.path, resp.StatusCode, want, text)
			}
		}
	}
}

// A carrier set by API on an account whose invoices go to a 統一編號 (the
// body leaves tax_id out, so the number stays) is answered with the whole
// setting in force: the 統一編號 its invoices still go to, not null, which
// read as "no 統一編號" while the next invoice is B2B and ignores the
// carrier.
func TestAPICarrierAnswersTheTaxIDInForce(t *testing.T) {
	e := newEnv(t, false)
	if _, err := e.cmds.OpenAccount(e.ctx, domain.AccountOpened{AccountID: "acct_b2b", Organisation: "統編公司", TaxID: "04595257", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	_, secret, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_b2b", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	code, body := e.call("POST", "/admin/api/accounts/acct_b2b/invoice-carrier", secret, map[string]any{"carrier": "/ABC1234"})
	var got struct {
		Data struct {
			Carrier string  `json:"carrier"`
			TaxID   *string `json:"tax_id"`
		} `json:"data"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &got) != nil {
		t.Fatalf("carrier: %d %s", code, body)
	}
	if got.Data.Carrier != "/ABC1234" || got.Data.TaxID == nil || *got.Data.TaxID != "04595257" {
		t.Fatalf("answered %s; want the carrier and the 統一編號 04595257 still in force", body)
	}
	// Cleared, the answer says so.
	code, body = e.call("POST", "/admin/api/accounts/acct_b2b/invoice-carrier", secret, map[string]any{"carrier": "/ABC1234", "tax_id": ""})
	got.Data.TaxID = nil
	if code != http.StatusOK || json.Unmarshal(body, &got) != nil || got.Data.TaxID == nil || *got.Data.TaxID != "" {
		t.Fatalf("cleared: %d %s", code, body)
	}
}
