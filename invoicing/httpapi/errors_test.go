package httpapi

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
)

// An HTTP error with no code of its own keeps its status, under the code
// http_error and the status text when it carries no message.
func TestStatusOfOtherHTTPErrors(t *testing.T) {
	code, body := status(echo.NewHTTPError(http.StatusRequestEntityTooLarge))
	if code != http.StatusRequestEntityTooLarge || body.Code != "http_error" || body.Message != "Request Entity Too Large" {
		t.Fatalf("413: %d %+v", code, body)
	}
	code, body = status(echo.NewHTTPError(http.StatusForbidden, "not yours"))
	if code != http.StatusForbidden || body.Code != "forbidden" || body.Message != "not yours" {
		t.Fatalf("403: %d %+v", code, body)
	}
}
