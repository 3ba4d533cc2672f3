// Package errtype names an error status as OpenAI's error types do, so
// that every face of RouteFree (the gateway, the admin API, the invoicing
// API) types its errors alike and SDKs raise their usual exceptions.
package errtype

import "net/http"

// Of is the error type of an HTTP status.
func Of(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusNotFound:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusPaymentRequired:
		return "insufficient_quota"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	}
	if status >= 400 && status < 500 {
		return "invalid_request_error" // the client's to fix, as OpenAI types it
	}
	return "api_error"
}
