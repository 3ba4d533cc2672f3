package httpapi

import (
	"strings"
	"testing"
)

// A quote's quantities and unit prices are written as the console's quote
// form takes them: digits, a decimal point and a minus sign, as a JSON
// string or number. "1e3" was read as a unit price of NT$1,000 and the
// quote issued; it is now refused naming the field, and no quote is
// issued.
func TestQuoteAmountsArePlain(t *testing.T) {
	srv, _ := server(t)
	for _, field := range []string{"quantity", "unit_price"} {
		for _, sent := range []string{`"1e3"`, `1e3`, `"+5"`, `" 5"`, `"5 "`} {
			item := map[string]string{"quantity": `"2"`, "unit_price": `"500"`}
			item[field] = sent
			body := `{"agency":"臺北市政府","items":[{"name":"AI API","unit":"月","quantity":` + item["quantity"] + `,"unit_price":` + item["unit_price"] + `}]}`
			r := call(t, srv, "POST", "/admin/api/quotes", "fin", body)
			if r.status != 400 || !strings.Contains(string(r.body), field+" must be an amount written plainly") {
				t.Errorf("%s %s: %d %s", field, sent, r.status, r.body)
			}
		}
	}
	if r := call(t, srv, "GET", "/admin/api/quotes", "fin", ""); strings.Contains(string(r.body), "臺北市政府") {
		t.Fatalf("a refused quote was issued: %s", r.body)
	}
	body := `{"agency":"臺北市政府","items":[{"name":"AI API","unit":"月","quantity":12,"unit_price":"285.7"}]}`
	r := call(t, srv, "POST", "/admin/api/quotes", "fin", body)
	var q struct {
		Subtotal int64 `json:"subtotal"`
		Total    int64 `json:"total"`
	}
	r.json(t, &q)
	if r.status != 201 || q.Subtotal != 3428 || q.Total != 3599 {
		t.Fatalf("12 × NT$285.7: %d subtotal %d total %d %s, want 201, 3428 and 3599 (5%% tax)", r.status, q.Subtotal, q.Total, r.body)
	}
}
