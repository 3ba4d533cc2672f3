package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/internal/errtype"
	"github.com/routefree/routefree/invoicing"
)

// errorBody is an error as the handlers decide it: its cause (a short
// word such as "void_window_closed"), its message and its details.
type errorBody struct {
	Reason   string
	Message  string
	Metadata map[string]any
}

// apiError is the body of every error, on the staff face as on the
// customer face: the admin API's and OpenRouter's shape,
// {"error":{"code":<HTTP status>,"message","type","metadata":{"reason",…}}},
// the cause in metadata.reason beside the error's details.
type apiError struct {
	Error wireError `json:"error"`
}

type wireError struct {
	Code     int            `json:"code"`
	Message  string         `json:"message"`
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
}

// wire is the error of status code as clients read it.
func wire(code int, b errorBody) wireError {
	md := map[string]any{"reason": b.Reason}
	for k, v := range b.Metadata {
		md[k] = v
	}
	return wireError{Code: code, Message: b.Message, Type: errtype.Of(code), Metadata: md}
}

// status maps the service's typed errors to HTTP, in one place.
func status(err error) (int, errorBody) {
	var werr *invoicing.VoidWindowError
	var eerr *invoicing.SpecialVoidEarlyError
	var nerr *invoicing.NotInvoicedError
	var herr *echo.HTTPError
	var lerr *invoicing.LiveAllowancesError
	var verr *invoicing.VoidedInvoiceError
	var berr *invoicing.B2CAllowanceError
	switch {
	case errors.As(err, &lerr):
		ends := make([]string, len(lerr.Allowances))
		for i, n := range lerr.Allowances {
			ends[i] = "POST /allowances/" + n + "/void"
		}
		return http.StatusConflict, errorBody{Reason: "live_allowances", Message: lerr.Error(),
			Metadata: map[string]any{"allowances": lerr.Allowances, "void_endpoints": ends}}
	case errors.As(err, &verr):
		md := map[string]any{"reissue": verr.Reissue}
		if len(verr.BilledBy) > 0 {
			md = map[string]any{"billed_by": verr.BilledBy}
		}
		return http.StatusConflict, errorBody{Reason: "invoice_voided", Message: verr.Error(), Metadata: md}
	case errors.As(err, &berr):
		md := map[string]any{"last_void_day": berr.LastDay, "allowance_from": berr.From,
			"void_endpoint": "POST /invoices/" + berr.Number + "/void", "reissue": berr.Reissue}
		if !berr.TopUp {
			md["void_less"] = "the amount to take off the re-issue, whole NTD with tax, as the void's less"
		}
		return http.StatusConflict, errorBody{Reason: "b2c_void_window_open", Message: berr.Error(), Metadata: md}
	case errors.As(err, &nerr):
		return http.StatusBadRequest, errorBody{Reason: "accounts_not_invoiced", Message: nerr.Error(),
			Metadata: map[string]any{"month": nerr.Month, "accounts": failuresJSON(nerr.Failures)}}
	case errors.As(err, &werr):
		return http.StatusConflict, errorBody{Reason: "void_window_closed", Message: werr.Error(),
			Metadata: map[string]any{"filing_deadline": werr.Deadline, "last_void_day": werr.LastDay, "alternative": "allowance",
				"allowance_endpoint": "POST /invoices/" + werr.Number + "/allowances",
				"special_void":       "once the tax office approves a special void (專案作廢): POST /invoices/" + werr.Number + "/void with reason, special_approval and approved_on"}}
	case errors.As(err, &eerr):
		return http.StatusConflict, errorBody{Reason: "void_window_open", Message: eerr.Error(),
			Metadata: map[string]any{"last_void_day": eerr.LastDay, "void_endpoint": "POST /invoices/" + eerr.Number + "/void"}}
	case errors.Is(err, invoicing.ErrRangeExhausted):
		return http.StatusConflict, errorBody{Reason: "range_exhausted", Message: err.Error()}
	case errors.Is(err, invoicing.ErrNoRange):
		return http.StatusConflict, errorBody{Reason: "no_invoice_range", Message: err.Error()}
	case errors.Is(err, invoicing.ErrInvalid):
		return http.StatusBadRequest, errorBody{Reason: "invalid_request", Message: err.Error()}
	case errors.Is(err, invoicing.ErrNotFound):
		return http.StatusNotFound, errorBody{Reason: "not_found", Message: err.Error()}
	case errors.Is(err, invoicing.ErrConflict):
		return http.StatusConflict, errorBody{Reason: "conflict", Message: err.Error()}
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
		return herr.Code, errorBody{Reason: code, Message: msg}
	}
	return http.StatusInternalServerError, errorBody{Reason: "internal", Message: "internal error"}
}

// shaped writes any error of the handlers below it (authentication
// included) in the API's shape, whatever the server's error handler does.
func shaped(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		code, b := status(err)
		if code == http.StatusInternalServerError {
			c.Logger().Error(err)
		}
		return c.JSON(code, apiError{Error: wire(code, b)})
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
