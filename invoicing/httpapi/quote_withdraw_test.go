package httpapi

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// Finance withdraws a quote issued with a mistake, or issues another in
// its place; the list says where each stands.
func TestQuoteWithdrawAndReplaceEndpoints(t *testing.T) {
	srv, _ := server(t)
	body := `{"agency":"臺北市政府資訊局","items":[{"name":"AI API 服務（月費）","quantity":"12","unit":"月","unit_price":"500"}]}`
	issue := func(body string) string {
		t.Helper()
		r := call(t, srv, "POST", "/admin/api/quotes", "fin", body)
		var q struct {
			QuoteID string `json:"quote_id"`
		}
		r.json(t, &q)
		if r.status != 201 {
			t.Fatalf("quote: %d %s", r.status, r.body)
		}
		return q.QuoteID
	}
	wrong, accepted := issue(body), issue(body)
	withdraw := "/admin/api/quotes/" + wrong + "/withdraw"
	if r := call(t, srv, "POST", withdraw, "aud", `{"reason":"單價誤植"}`); r.status != 403 {
		t.Fatalf("auditor withdrawing: %d", r.status)
	}
	if r := call(t, srv, "POST", withdraw, "fin", `{}`); r.status != 400 || r.errorCode(t) != "invalid_request" {
		t.Fatalf("withdrawal without a reason: %d %s", r.status, r.body)
	}
	for i := 0; i < 2; i++ { // twice: the same answer
		r := call(t, srv, "POST", withdraw, "fin", `{"reason":"單價誤植"}`)
		if r.status != 200 || !strings.Contains(string(r.body), `"status":"withdrawn"`) || !strings.Contains(string(r.body), "單價誤植") {
			t.Fatalf("withdraw %d: %d %s", i, r.status, r.body)
		}
	}
	r := call(t, srv, "POST", "/admin/api/quotes/"+wrong+"/accept", "fin", `{}`)
	if r.status != 409 || r.errorCode(t) != "conflict" || !strings.Contains(string(r.body), "withdrawn on 2026-11-01") {
		t.Fatalf("accepting a withdrawn quote: %d %s", r.status, r.body)
	}
	r = call(t, srv, "GET", "/admin/api/quotes/"+wrong+"/pdf", "aud", "")
	isPDF(t, r)
	pdftest.MustContain(t, pdftest.Text(t, r.body), "本報價單已於", "撤回", "單價誤植")

	if r := call(t, srv, "POST", "/admin/api/quotes/"+accepted+"/accept", "fin", `{}`); r.status != 200 {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	r = call(t, srv, "POST", "/admin/api/quotes/"+accepted+"/withdraw", "fin", `{"reason":"x"}`)
	if r.status != 409 || !strings.Contains(string(r.body), "C-") {
		t.Fatalf("withdrawing an accepted quote: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "POST", "/admin/api/quotes", "fin", strings.Replace(body, "{", `{"replaces":"`+accepted+`",`, 1)); r.status != 409 {
		t.Fatalf("replacing an accepted quote: %d %s", r.status, r.body)
	}

	old := issue(body)
	nq := issue(strings.Replace(body, "{", `{"replaces":"`+old+`",`, 1))
	// Sent again without a key, the same replacement is answered with the
	// quote it issued.
	if again := issue(strings.Replace(body, "{", `{"replaces":"`+old+`",`, 1)); again != nq {
		t.Fatalf("replacement sent again: %s, first %s", again, nq)
	}
	other := strings.Replace(body, `"12"`, `"6"`, 1)
	if r := call(t, srv, "POST", "/admin/api/quotes", "fin", strings.Replace(other, "{", `{"replaces":"`+old+`",`, 1)); r.status != 409 || !strings.Contains(string(r.body), nq) {
		t.Fatalf("replacing a replaced quote: %d %s", r.status, r.body)
	}

	r = call(t, srv, "GET", "/admin/api/quotes", "aud", "")
	var list struct {
		Quotes []struct {
			QuoteID    string `json:"quote_id"`
			Status     string `json:"status"`
			Replaces   string `json:"replaces"`
			ReplacedBy string `json:"replaced_by"`
			ContractID string `json:"contract_id"`
			Reason     string `json:"withdrawal_reason"`
		} `json:"quotes"`
	}
	r.json(t, &list)
	got := map[string]string{}
	for _, q := range list.Quotes {
		got[q.QuoteID] = q.Status + "|" + q.Replaces + "|" + q.ReplacedBy + "|" + q.Reason + "|" + strings.TrimPrefix(q.ContractID, "C-")
	}
	want := map[string]string{
		wrong: "withdrawn|||單價誤植|", accepted: "accepted||||" + strings.TrimPrefix(accepted, "Q-"),
		old: "replaced||" + nq + "||", nq: "valid|" + old + "|||",
	}
	if r.status != 200 || len(got) != len(want) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	for id, w := range want {
		if got[id] != w {
			t.Fatalf("list %s: %q, want %q", id, got[id], w)
		}
	}
}
