package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The API speaks JSON whatever the request's Content-Type says: curl's -d
// labels a body application/x-www-form-urlencoded unless told otherwise,
// and such a void's reason was read as a form, found empty, and the void
// refused for "a void needs a reason". A body sent with no Content-Type,
// or with a form's, is read as the JSON it is; one that is not JSON is
// refused as such, naming no field it never had.
func TestBodiesAreJSONWhateverTheirContentType(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	send := func(path, contentType, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer fin")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for number, ct := range map[string]string{"AB12345000": "application/x-www-form-urlencoded", "AB12345001": ""} {
		if code, body := send("/admin/api/invoices/"+number+"/void", ct, `{"reason":"金額有誤"}`); code != http.StatusOK {
			t.Fatalf("a void whose JSON body is labelled %q: %d %s", ct, code, body)
		}
	}
	code, body := send("/admin/api/invoices/AB12345000/void", "application/x-www-form-urlencoded", "reason=x")
	if code != http.StatusBadRequest || !strings.Contains(body, "not valid JSON") {
		t.Fatalf("a form body: %d %s, want 400 saying it is not JSON", code, body)
	}
}
