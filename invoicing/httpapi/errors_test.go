package httpapi

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// An HTTP error with no code of its own keeps its status, under the reason
// http_error and the status text when it carries no message.
func TestStatusOfOtherHTTPErrors(t *testing.T) {
	code, body := status(echo.NewHTTPError(http.StatusRequestEntityTooLarge))
	if code != http.StatusRequestEntityTooLarge || body.Reason != "http_error" || body.Message != "Request Entity Too Large" {
		t.Fatalf("413: %d %+v", code, body)
	}
	code, body = status(echo.NewHTTPError(http.StatusForbidden, "not yours"))
	if code != http.StatusForbidden || body.Reason != "forbidden" || body.Message != "not yours" {
		t.Fatalf("403: %d %+v", code, body)
	}
}

// The finance routes of the admin API answer errors as its other routes
// and OpenRouter do: the HTTP status as a number in code, the cause in
// metadata.reason. Their code was a string ("not_found"), so a client of
// the admin API read two shapes from one base URL.
func TestAdminErrorsCarryTheStatusAsTheirCode(t *testing.T) {
	srv, clk := serverWithRange(t, 12345000, 12345000) // one number for two accounts
	for _, c := range []struct {
		method, path, token, body string
		status                    int
		reason                    string
	}{
		{"GET", "/admin/api/invoices", "", "", 401, "unauthenticated"},
		{"POST", "/admin/api/invoices/close?month=2026-11", "aud", "", 403, "forbidden"},
		{"GET", "/admin/api/invoices?limit=-1", "fin", "", 400, "invalid_request"},
		{"GET", "/admin/api/invoices/AB99999999/pdf", "aud", "", 404, "not_found"},
	} {
		r := call(t, srv, c.method, c.path, c.token, c.body)
		if code, reason := r.openRouterError(t); code != c.status || reason != c.reason {
			t.Fatalf("%s %s: %d %s; want code %d, metadata.reason %s", c.method, c.path, r.status, r.body, c.status, c.reason)
		}
	}
	// A close that stops part-way answers what it issued beside the error,
	// in the same shape.
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", "")
	var part struct {
		Issued []json.RawMessage `json:"issued"`
		Error  struct {
			Code     int            `json:"code"`
			Message  string         `json:"message"`
			Metadata map[string]any `json:"metadata"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &part); err != nil || r.status != 409 || len(part.Issued) != 1 ||
		part.Error.Code != 409 || part.Error.Message == "" || part.Error.Metadata["reason"] != "range_exhausted" {
		t.Fatalf("close part-way: %d %s (%v)", r.status, r.body, err)
	}
}
