package httpapi

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// A replacement issued through the API gives its reason: the list shows it
// on both quotes and both PDFs print it; a reason without replaces is a 400.
func TestAReplacementThroughTheAPIGivesItsReason(t *testing.T) {
	srv, _ := server(t)
	body := `{"agency":"臺北市政府資訊局","items":[{"name":"AI API 服務（月費）","quantity":"12","unit":"月","unit_price":"500"}]}`
	r := call(t, srv, "POST", "/admin/api/quotes", "fin", body)
	var old struct {
		QuoteID string `json:"quote_id"`
	}
	r.json(t, &old)
	if r.status != 201 {
		t.Fatalf("quote: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "POST", "/admin/api/quotes", "fin", strings.Replace(body, "{", `{"reason":"數量更正",`, 1)); r.status != 400 ||
		r.errorCode(t) != "invalid_request" || !strings.Contains(string(r.body), "replaces") {
		t.Fatalf("a reason without replaces: %d %s", r.status, r.body)
	}
	r = call(t, srv, "POST", "/admin/api/quotes", "fin", strings.Replace(body, "{", `{"replaces":"`+old.QuoteID+`","reason":"數量更正",`, 1))
	var nq struct {
		QuoteID       string `json:"quote_id"`
		ReplaceReason string `json:"replace_reason"`
	}
	r.json(t, &nq)
	if r.status != 201 || nq.ReplaceReason != "數量更正" {
		t.Fatalf("replacement: %d %s", r.status, r.body)
	}

	r = call(t, srv, "GET", "/admin/api/quotes", "aud", "")
	var list struct {
		Quotes []struct {
			QuoteID       string `json:"quote_id"`
			Reason        string `json:"withdrawal_reason"`
			ReplaceReason string `json:"replace_reason"`
		} `json:"quotes"`
	}
	r.json(t, &list)
	got := map[string]string{}
	for _, q := range list.Quotes {
		got[q.QuoteID] = q.Reason + "|" + q.ReplaceReason
	}
	if got[old.QuoteID] != "數量更正|" || got[nq.QuoteID] != "|數量更正" {
		t.Fatalf("list: %s", r.body)
	}
	r = call(t, srv, "GET", "/admin/api/quotes/"+old.QuoteID+"/pdf", "aud", "")
	isPDF(t, r)
	pdftest.MustContain(t, pdftest.Text(t, r.body), "已由 "+nq.QuoteID+" 取代", "撤回原因：數量更正")
	r = call(t, srv, "GET", "/admin/api/quotes/"+nq.QuoteID+"/pdf", "aud", "")
	isPDF(t, r)
	pdftest.MustContain(t, pdftest.Text(t, r.body), "本報價單取代 "+old.QuoteID, "取代原因：數量更正")
}
