package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/invoicing"
)

// apiError is the body of every error: {"error":{"code","message","metadata"}}.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code     string         `json:"code"`
	Message  string         `json:"message"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// status maps the service's typed errors to HTTP, in one place.
func status(err error) (int, errorBody) {
	var werr *invoicing.VoidWindowError
	var eerr *invoicing.SpecialVoidEarlyError
	var nerr *invoicing.NotInvoicedError
	var herr *echo.HTTPError
	var lerr *invoicing.LiveAllowancesError
	var verr *invoicing.VoidedInvoiceError
	switch {
	case errors.As(err, &lerr):
		ends := make([]string, len(lerr.Allowances))
		for i, n := range lerr.Allowances {
			ends[i] = "POST /allowances/" + n + "/void"
		}
		return http.StatusConflict, errorBody{Code: "live_allowances", Message: lerr.Error(),
			Metadata: map[string]any{"allowances": lerr.Allowances, "void_endpoints": ends}}
	case errors.As(err, &verr):
		md := map[string]any{"reissue": verr.Reissue}
		if len(verr.BilledBy) > 0 {
			md = map[string]any{"billed_by": verr.BilledBy}
		}
		return http.StatusConflict, errorBody{Code: "invoice_voided", Message: verr.Error(), Metadata: md}
	case errors.As(err, &nerr):
		return http.StatusBadRequest, errorBody{Code: "accounts_not_invoiced", Message: nerr.Error(),
			Metadata: map[string]any{"month": nerr.Month, "accounts": failuresJSON(nerr.Failures)}}
	case errors.As(err, &werr):
		return http.StatusConflict, errorBody{Code: "void_window_closed", Message: werr.Error(),
			Metadata: map[string]any{"filing_deadline": werr.Deadline, "last_void_day": werr.LastDay, "alternative": "allowance",
				"allowance_endpoint": "POST /invoices/" + werr.Number + "/allowances",
				"special_void":       "once the tax office approves a special void (專案作廢): POST /invoices/" + werr.Number + "/void with reason, special_approval and approved_on"}}
	case errors.As(err, &eerr):
		return http.StatusConflict, errorBody{Code: "void_window_open", Message: eerr.Error(),
			Metadata: map[string]any{"last_void_day": eerr.LastDay, "void_endpoint": "POST /invoices/" + eerr.Number + "/void"}}
	case errors.Is(err, invoicing.ErrRangeExhausted):
		return http.StatusConflict, errorBody{Code: "range_exhausted", Message: err.Error()}
	case errors.Is(err, invoicing.ErrNoRange):
		return http.StatusConflict, errorBody{Code: "no_invoice_range", Message: err.Error()}
	case errors.Is(err, invoicing.ErrInvalid):
		return http.StatusBadRequest, errorBody{Code: "invalid_request", Message: err.Error()}
	case errors.Is(err, invoicing.ErrNotFound):
		return http.StatusNotFound, errorBody{Code: "not_found", Message: err.Error()}
	case errors.Is(err, invoicing.ErrConflict):
		return http.StatusConflict, errorBody{Code: "conflict", Message: err.Error()}
	case errors.As(err, &herr):
		code := map[int]string{http.StatusUnauthorized: "unauthenticated", http.StatusForbidden: "forbidden",
			http.StatusNotFound: "not_found", http.StatusMethodNotAllowed: "method_not_allowed"}[herr.Code]
		if code == "" {
			code = "http_error"
		}
		msg, _ := herr.Message.(string)
		if msg == "" {
			msg = http.StatusText(herr.Code)
		}
		return herr.Code, errorBody{Code: code, Message: msg}
	}
	return http.StatusInternalServerError, errorBody{Code: "internal", Message: "internal error"}
}

// openRouterError is the body of every error under /api/v1, OpenRouter's:
// {"error":{"code":<HTTP status>,"message","metadata"}}, the admin face's
// code kept as metadata.reason.
type openRouterError struct {
	Error struct {
		Code     int            `json:"code"`
		Message  string         `json:"message"`
		Metadata map[string]any `json:"metadata,omitempty"`
	} `json:"error"`
}

func openRouterBody(code int, b errorBody) any {
	var e openRouterError
	e.Error.Code, e.Error.Message = code, b.Message
	e.Error.Metadata = map[string]any{"reason": b.Code}
	for k, v := range b.Metadata {
		e.Error.Metadata[k] = v
	}
	return e
}

// shaped writes any error of the handlers below it (authentication
// included) in the admin API's shape, whatever the server's error handler
// does.
func shaped(next echo.HandlerFunc) echo.HandlerFunc {
	return shapedAs(next, func(code int, b errorBody) any { return apiError{Error: b} })
}

// shapedOpenRouter is shaped for the customer face, in the shape of the
// rest of /api/v1.
func shapedOpenRouter(next echo.HandlerFunc) echo.HandlerFunc {
	return shapedAs(next, openRouterBody)
}

func shapedAs(next echo.HandlerFunc, body func(int, errorBody) any) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		code, b := status(err)
		if code == http.StatusInternalServerError {
			c.Logger().Error(err)
		}
		return c.JSON(code, body(code, b))
	}
}

// failuresJSON lists the accounts a close did not invoice.
func failuresJSON(fs []invoicing.Failure) []map[string]string {
	out := make([]map[string]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, map[string]string{"account_id": f.AccountID, "month": f.Month, "name": f.Name, "reason": f.Reason})
	}
	return out
}
