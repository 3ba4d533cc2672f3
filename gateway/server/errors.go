package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/internal/errtype"
)

// APIError is every error the gateway returns, in OpenAI's / OpenRouter's
// shape: {"error":{"code":<status>,"message":…,"metadata":{…}}}. Typed errors
// map to statuses here and nowhere else.
type APIError struct {
	Status   int            `json:"code"`
	Message  string         `json:"message"`
	Type     string         `json:"type,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	// Reason is the short cause recorded in the request.failed event.
	Reason string `json:"-"`
}

func (e *APIError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

func apiErr(status int, reason, msg string, meta map[string]any) *APIError {
	return &APIError{Status: status, Message: msg, Type: errorType(status), Metadata: meta, Reason: reason}
}

// errorType mirrors OpenAI's error types so SDKs raise the usual exceptions.
func errorType(status int) string { return errtype.Of(status) }

// openRouterErrorType is OpenRouter's canonical error type (the
// metadata.error_type of its stream errors) for an upstream's error status.
func openRouterErrorType(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case http.StatusServiceUnavailable, 529: // 529: Anthropic's overloaded
		return "provider_overloaded"
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return "timeout"
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusUnauthorized:
		return "authentication"
	case http.StatusPaymentRequired:
		return "payment_required"
	case http.StatusForbidden:
		return "permission_denied"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusRequestEntityTooLarge:
		return "payload_too_large"
	case http.StatusUnprocessableEntity:
		return "unprocessable"
	}
	return "server"
}

// noUpstreamErrorType is OpenRouter's error type for the gateway's own
// error when no upstream served: its 503 (every upstream failed) is
// unavailability, not an upstream's overload; other statuses (a refused
// input, a rate limit, a timeout) read as an upstream's would.
func noUpstreamErrorType(status int) string {
	if status == http.StatusServiceUnavailable {
		return "provider_unavailable"
	}
	return openRouterErrorType(status)
}

func writeAPIError(c echo.Context, e *APIError) error {
	if ra, ok := e.Metadata["retry_after_seconds"]; ok {
		c.Response().Header().Set("Retry-After", fmt.Sprint(ra))
	}
	// The documented shape always has a metadata object, empty or not.
	type body struct {
		Status   int            `json:"code"`
		Message  string         `json:"message"`
		Type     string         `json:"type,omitempty"`
		Metadata map[string]any `json:"metadata"`
	}
	meta := e.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	b, _ := json.Marshal(struct {
		Error body `json:"error"`
	}{body{e.Status, e.Message, e.Type, meta}})
	return c.Blob(e.Status, echo.MIMEApplicationJSON, b)
}

// httpErrorHandler renders echo's own errors (unknown routes, body too
// large, panics recovered) in the same shape.
func httpErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if ae, ok := err.(*APIError); ok {
		_ = writeAPIError(c, ae)
		return
	}
	status := http.StatusInternalServerError
	msg := "internal error"
	if he, ok := err.(*echo.HTTPError); ok {
		status = he.Code
		msg = fmt.Sprint(he.Message)
		if status == http.StatusRequestEntityTooLarge {
			msg = "request body too large"
		}
	}
	if err == echo.ErrNotFound {
		if allow := allowedMethods(c); allow != "" {
			c.Response().Header().Set(echo.HeaderAllow, allow)
			status, msg = http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed here: this path takes %s", c.Request().Method, allow)
		}
	}
	_ = writeAPIError(c, apiErr(status, "http_"+strconv.Itoa(status), msg, nil))
}

// allowedMethods lists the methods the request's path takes, when its own
// is not among them. Echo answers such a request 405 itself, except under a group
// with middleware of its own (the admin API, /api/v1/keys): the group's
// catch-all route takes the request and answers 404, as if the path (a key,
// an account) did not exist.
func allowedMethods(c echo.Context) string {
	e := c.Echo()
	routes := map[string]bool{}
	for _, r := range e.Routes() {
		routes[r.Method+" "+r.Path] = true
	}
	path := echo.GetPath(c.Request())
	takes := func(method string) bool {
		probe := e.NewContext(c.Request(), nil)
		e.Router().Find(method, path, probe)
		return routes[method+" "+probe.Path()]
	}
	if takes(c.Request().Method) {
		return "" // the route's own handler found nothing
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if takes(m) {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}
