// Package httpapi is the finance face of invoicing over HTTP: invoices,
// voids, allowances, the monthly close, the MIG exports (F0401, F0501,
// G0401), quotes and contracts for staff; their own invoices for customers.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/console/headers"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/internal/jsonkind"
	"github.com/routefree/routefree/internal/onejson"
	"github.com/routefree/routefree/internal/paging"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

type api struct{ svc *invoicing.Service }

// Register mounts the staff routes on admin (e.g. /admin/api) and the
// customer routes on customer (e.g. /api/v1). Reading is for finance and
// auditors; changing (void, allowance, close, quotes) for finance alone;
// customers see only their own account's invoices. Admins run accounts,
// keys and prices, not the books (the README's role table).
func Register(admin *echo.Group, customer *echo.Group, svc *invoicing.Service, authn auth.Authenticator) {
	a := &api{svc: svc}
	read := []echo.MiddlewareFunc{headers.Secure, shaped, auth.Require(authn, false, auth.Finance, auth.Auditor)}
	write := []echo.MiddlewareFunc{headers.Secure, shaped, auth.Require(authn, false, auth.Finance)}
	admin.GET("/invoices", a.list, read...)
	admin.GET("/invoices/export", a.export, read...)
	admin.GET("/invoices/:number/pdf", a.invoicePDF, read...)
	admin.POST("/invoices/close", a.close, write...)
	admin.POST("/invoices/:number/void", a.void, write...)
	admin.POST("/invoices/:number/allowances", a.allowance, write...)
	admin.GET("/allowances/:number/pdf", a.allowancePDF, read...)
	admin.POST("/allowances/:number/void", a.voidAllowance, write...)
	admin.GET("/invoices/reconciliation", a.reconciliation, read...)
	admin.GET("/quotes", a.quotes, read...)
	admin.POST("/quotes", a.createQuote, write...)
	admin.POST("/quotes/:id/withdraw", a.withdrawQuote, write...)
	admin.GET("/quotes/:id/pdf", a.quotePDF, read...)
	admin.POST("/quotes/:id/accept", a.acceptQuote, write...)
	admin.GET("/contracts/:id/pdf", a.contractPDF, read...)

	own := []echo.MiddlewareFunc{headers.Secure, shaped, auth.Require(authn, true)}
	customer.GET("/invoices", a.customerList, own...)
	customer.GET("/invoices/:number/pdf", a.customerPDF, own...)
	customer.GET("/allowances", a.customerAllowances, own...)
	customer.GET("/allowances/:number/pdf", a.customerAllowancePDF, own...)
}

// invoiceJSON is an invoice as the API shows it.
type invoiceJSON struct {
	Number     string    `json:"number"`
	Printed    string    `json:"printed_number"`
	Period     string    `json:"period"`
	Month      string    `json:"month"`         // the Taipei month it counts in (invoicing.Service.InvoiceMonth)
	Seq        int       `json:"seq,omitempty"` // 1, 2…: supplementary invoices of the month
	AccountID  string    `json:"account_id"`
	TopUpRef   string    `json:"topup_ref,omitempty"` // the latest payment it bills
	TopUps     []string  `json:"topups,omitempty"`    // every payment it bills, in order
	Replaces   []string  `json:"replaces,omitempty"`  // the voided invoices it re-issues
	Less       int64     `json:"less,omitempty"`      // a re-issue's: what voids took off it (NTD)
	VoidLess   int64     `json:"void_less,omitempty"` // a voided invoice's: what its void took off the re-issue (NTD)
	Kind       string    `json:"kind"`
	BuyerName  string    `json:"buyer_name,omitempty"`
	BuyerTaxID string    `json:"buyer_tax_id,omitempty"`
	Sales      int64     `json:"sales"`
	Tax        int64     `json:"tax"`
	Total      int64     `json:"total"`
	Net        int64     `json:"net"`
	IssuedAt   time.Time `json:"issued_at"`
	Status     string    `json:"status"`
	VoidReason string    `json:"void_reason,omitempty"`
	// SpecialVoid is the tax office's approval of a special void (專案作廢).
	SpecialVoid *domain.SpecialVoid `json:"special_void,omitempty"`
	Allowances  []allowanceJSON     `json:"allowances,omitempty"`
	PDF         string              `json:"pdf"`
}

type allowanceJSON struct {
	Number        string     `json:"number"`
	InvoiceNumber string     `json:"invoice_number"`
	Sales         int64      `json:"sales"`
	Tax           int64      `json:"tax"`
	Reason        string     `json:"reason"`
	IssuedAt      time.Time  `json:"issued_at"`
	Status        string     `json:"status"` // issued or voided
	VoidReason    string     `json:"void_reason,omitempty"`
	VoidedAt      *time.Time `json:"voided_at,omitempty"`
	PDF           string     `json:"pdf"`
}

// allowanceToJSON shows an allowance; prefix is the group's mount point.
func allowanceToJSON(al invoicing.Allowance, prefix string) allowanceJSON {
	j := allowanceJSON{Number: al.Number, InvoiceNumber: al.InvoiceNumber, Sales: al.Sales, Tax: al.Tax, Reason: al.Reason,
		IssuedAt: al.IssuedAt, Status: "issued", PDF: prefix + "/allowances/" + al.Number + "/pdf"}
	if al.Voided {
		at := al.VoidedAt
		j.Status, j.VoidReason, j.VoidedAt = "voided", al.VoidReason, &at
	}
	return j
}

// base is the group's mount point as seen in this request, for links.
func base(c echo.Context, suffix string) string {
	p := c.Request().URL.Path
	if i := strings.Index(p, suffix); i >= 0 {
		return p[:i]
	}
	return ""
}

// invoiceRef is the invoice a request names: the number in its path and,
// for a number issued in more than one period, ?period=YYYY-MM.
func invoiceRef(c echo.Context) (string, error) {
	period := c.QueryParam("period")
	if period != "" {
		p, err := twrules.ParsePeriod(period)
		if err != nil {
			return "", fmt.Errorf("%w: %v", invoicing.ErrInvalid, err)
		}
		period = p.String()
	}
	return invoicing.InvoiceRef(period, c.Param("number")), nil
}

// pdfLink is an invoice's PDF under prefix, naming its period when its
// number was issued in another period too.
func (a *api) pdfLink(inv invoicing.Invoice, prefix string) string {
	link := prefix + "/invoices/" + inv.Number + "/pdf"
	if a.svc.NumberReused(inv.Number) {
		link += "?period=" + inv.Period
	}
	return link
}

func (a *api) toJSON(inv invoicing.Invoice, prefix string, staff bool) invoiceJSON {
	j := invoiceJSON{Number: inv.Number, Printed: twrules.PrintedNumber(inv.Number), Period: inv.Period, Month: a.svc.InvoiceMonth(inv), Seq: inv.Seq,
		AccountID: inv.AccountID, TopUpRef: inv.TopUpRef, TopUps: inv.TopUps, Replaces: inv.Replaces, Less: inv.Less, VoidLess: inv.VoidLess, Kind: inv.Kind, BuyerName: inv.BuyerName, BuyerTaxID: inv.BuyerTaxID,
		Sales: inv.Sales, Tax: inv.Tax, Total: inv.Total, Net: inv.Net(), IssuedAt: inv.IssuedAt, Status: "issued",
		PDF: a.pdfLink(inv, prefix)}
	if inv.Voided {
		j.Status, j.VoidReason, j.SpecialVoid = "voided", inv.VoidReason, inv.Special
	}
	for _, a := range inv.Allowances {
		j.Allowances = append(j.Allowances, allowanceToJSON(a, prefix))
	}
	return j
}

func (a *api) list(c echo.Context) error {
	return a.listFor(c, c.QueryParam("account"), true)
}

// listFor answers a list of invoices of a month (optional) and account
// (empty: all, staff only).
func (a *api) listFor(c echo.Context, acct string, staff bool) error {
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	month := c.QueryParam("month")
	if month != "" {
		if _, err := invoicing.ParseMonth(month); err != nil {
			return err
		}
	}
	r, err := paging.Parse(c.QueryParams(), invoicesPage)
	if err != nil {
		return fmt.Errorf("%w: %v", invoicing.ErrInvalid, err)
	}
	prefix := base(c, "/invoices")
	page, resp := paging.Cut(a.svc.Invoices(month, acct), r)
	out := make([]invoiceJSON, 0, len(page))
	for _, inv := range page {
		out = append(out, a.toJSON(inv, prefix, staff))
	}
	resp["invoices"] = out
	return c.JSON(http.StatusOK, resp)
}

// invoicesPage is the most invoices one list answers. Invoices come by
// period and number, so a page read by offset stays put while invoices
// are issued (new numbers come last).
const invoicesPage = 1000

// sendPDF renders into memory first, so that a failure is still an error
// response rather than half a PDF.
func sendPDF(c echo.Context, name string, render func(*bytes.Buffer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("inline; filename=%q", name))
	return c.Blob(http.StatusOK, "application/pdf", buf.Bytes())
}

func (a *api) invoicePDF(c echo.Context) error {
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	ref, err := invoiceRef(c)
	if err != nil {
		return err
	}
	return sendPDF(c, c.Param("number")+".pdf", func(b *bytes.Buffer) error { return a.svc.InvoicePDF(b, ref) })
}

func (a *api) allowancePDF(c echo.Context) error {
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	n := c.Param("number")
	return sendPDF(c, n+".pdf", func(b *bytes.Buffer) error { return a.svc.AllowancePDF(b, n) })
}

// bind reads a request's JSON body into v. Its refusals say which field
// is wrong and what it wants, rather than the decoder's words.
func bind(c echo.Context, v any) error {
	err := bindOne(c, v)
	if err == nil {
		return nil
	}
	if he, ok := err.(*echo.HTTPError); ok && he.Internal != nil {
		err = he.Internal
	}
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit))
	case errors.As(err, &ute) && ute.Field != "":
		return fmt.Errorf("%w: request body: %s must be %s, not %s", invoicing.ErrInvalid, ute.Field, jsonkind.Of(ute.Type), domain.Excerpt(ute.Value))
	case errors.As(err, &se):
		return fmt.Errorf("%w: request body is not valid JSON (%v)", invoicing.ErrInvalid, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: request body is not valid JSON (it ends early)", invoicing.ErrInvalid)
	}
	return fmt.Errorf("%w: request body: %s", invoicing.ErrInvalid, domain.ExcerptWords(err.Error()))
}

// bindOne reads a body that says one thing (onejson.Check: a key given
// twice or a second value is refused) as JSON, whatever its Content-Type:
// echo's binder read a body labelled as a form (curl's -d) as one, and
// found none of its fields. An empty body binds nothing.
func bindOne(c echo.Context, v any) error {
	r := c.Request()
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, 1<<20))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := onejson.Check(b); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// wholeNTD is an amount of whole New Taiwan dollars, given as a JSON
// number or, as top-ups take amounts, a string of one.
type wholeNTD int64

func (n *wholeNTD) UnmarshalJSON(b []byte) error {
	s := string(b)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	// Digits alone, as every amount is written: strconv also takes "+210".
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || s == "" || strings.Trim(s, "0123456789") != "" {
		return fmt.Errorf("amount must be a whole number of NTD, tax included, such as 210 or \"210\" (not %s)", domain.Excerpt(string(b)))
	}
	*n = wholeNTD(v)
	return nil
}

// closeMonth is the month a close is asked for: in the JSON body, as the
// other changes of this API take their fields, or in ?month=. Given in
// both, they must agree: a close is never run for one when the other was
// meant.
func closeMonth(c echo.Context) (string, error) {
	var req struct {
		Month string `json:"month"`
	}
	if err := bind(c, &req); err != nil {
		return "", err
	}
	query := c.QueryParam("month")
	switch {
	case query != "" && req.Month != "" && query != req.Month:
		return "", fmt.Errorf("%w: month given twice, ?month=%s and %s in the body: give it once", invoicing.ErrInvalid, domain.Quote(query), domain.Quote(req.Month))
	case query == "" && req.Month == "":
		return "", fmt.Errorf(`%w: the month to close is required: ?month=YYYY-MM or {"month":"YYYY-MM"}`, invoicing.ErrInvalid)
	case query != "":
		return query, nil
	}
	return req.Month, nil
}

// void voids an invoice; with special_approval or approved_on, it records
// the tax office's special void (專案作廢) of one past its void window.
func (a *api) void(c echo.Context) error {
	var req struct {
		Reason          string `json:"reason"`
		SpecialApproval string `json:"special_approval"`
		ApprovedOn      string `json:"approved_on"`
		// Less is a monthly invoice's amount to take off its re-issue
		// (VoidLess), whole NTD with tax; absent or 0 for none.
		Less *wholeNTD `json:"less"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ref, err := invoiceRef(c)
	if err != nil {
		return err
	}
	var inv invoicing.Invoice
	if req.SpecialApproval != "" || req.ApprovedOn != "" {
		inv, err = a.svc.SpecialVoid(c.Request().Context(), ref, req.Reason,
			domain.SpecialVoid{Approval: req.SpecialApproval, ApprovedOn: req.ApprovedOn})
	} else {
		less := int64(0)
		if req.Less != nil {
			less = int64(*req.Less)
		}
		inv, err = a.svc.VoidLess(c.Request().Context(), ref, req.Reason, less)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.toJSON(inv, base(c, "/invoices"), true))
}

func (a *api) allowance(c echo.Context) error {
	var req struct {
		Amount wholeNTD `json:"amount"` // tax included
		Reason string   `json:"reason"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ref, err := invoiceRef(c)
	if err != nil {
		return err
	}
	// A client's Idempotency-Key names the allowance: a retried request is
	// answered with the allowance the first issued, the invoice allowed
	// once. Keys are the caller's own, as a quote's.
	var once string
	if k := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key")); k != "" {
		if len(k) > 200 {
			return fmt.Errorf("%w: Idempotency-Key is at most 200 characters", invoicing.ErrInvalid)
		}
		p, _ := auth.FromContext(c)
		once = "api-allowance\x00" + p.TokenID + "\x00" + p.Subject + "\x00" + k
	}
	al, _, err := a.svc.IssueAllowanceOnce(c.Request().Context(), ref, int64(req.Amount), req.Reason, once)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, allowanceToJSON(al, base(c, "/invoices")))
}

func (a *api) voidAllowance(c echo.Context) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	al, err := a.svc.VoidAllowance(c.Request().Context(), c.Param("number"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, allowanceToJSON(al, base(c, "/allowances")))
}

// reconciliation answers the reconciliation of a month (?month=YYYY-MM) or
// of all months: per account, usage or top-ups against what invoices bill,
// and why any difference is pending.
func (a *api) reconciliation(c echo.Context) error {
	rec, err := a.svc.Reconcile(c.Request().Context(), c.QueryParam("month"))
	if err != nil {
		return err
	}
	if rec.Rows == nil {
		rec.Rows = []invoicing.ReconcileRow{}
	}
	return c.JSON(http.StatusOK, rec)
}

func (a *api) close(c echo.Context) error {
	month, err := closeMonth(c)
	if err != nil {
		return err
	}
	rep, err := a.svc.Close(c.Request().Context(), month, invoicing.CloseOptions{})
	if err != nil && len(rep.Issued) == 0 && len(rep.Failed) == 0 {
		return err
	}
	prefix := base(c, "/invoices")
	issued := []invoiceJSON{}
	for _, inv := range rep.Issued {
		issued = append(issued, a.toJSON(inv, prefix, true))
	}
	skipped := []map[string]string{}
	for _, s := range rep.Skipped {
		skipped = append(skipped, map[string]string{"account_id": s.AccountID, "month": s.Month, "reason": s.Reason})
	}
	body := map[string]any{"month": rep.Month, "period": rep.Period, "issued": issued, "existing": rep.Existing,
		"skipped": skipped, "no_usage": rep.NoUsage, "not_invoiced": failuresJSON(rep.Failed)}
	// Partly done (the range ran out, or accounts could not be invoiced):
	// say what was issued and what was not.
	if err != nil {
		code, e := status(err)
		body["error"] = wire(code, e)
		return c.JSON(code, body)
	}
	return c.JSON(http.StatusOK, body)
}

func (a *api) export(c echo.Context) error {
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	p, err := twrules.ParsePeriod(c.QueryParam("period"))
	if err != nil {
		return fmt.Errorf("%w: %v", invoicing.ErrInvalid, err)
	}
	msg := strings.ToUpper(c.QueryParam("message"))
	if msg == "" {
		msg = invoicing.MessageF0401
	}
	var buf bytes.Buffer
	if err := a.svc.Export(&buf, msg, p.String()); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", msg+"-"+p.String()+".zip"))
	return c.Blob(http.StatusOK, "application/zip", buf.Bytes())
}

// quoteItem is a quote's line as the API takes it: its quantity and unit
// price written plainly, as the console's quote form takes them.
type quoteItem struct {
	Name      string          `json:"name"`
	Spec      string          `json:"spec,omitempty"`
	Quantity  commands.Amount `json:"quantity"`
	Unit      string          `json:"unit"`
	UnitPrice commands.Amount `json:"unit_price"`
}

func (a *api) createQuote(c echo.Context) error {
	var body struct {
		invoicing.QuoteRequest
		Items []quoteItem `json:"items"`
	}
	if err := bind(c, &body); err != nil {
		return err
	}
	req := body.QuoteRequest
	for _, it := range body.Items {
		req.Items = append(req.Items, domain.QuoteItem{Name: it.Name, Spec: it.Spec, Quantity: it.Quantity.Decimal, Unit: it.Unit, UnitPrice: it.UnitPrice.Decimal})
	}
	// A client's Idempotency-Key names the quote: a retried request is
	// answered with the quote the first issued. Keys are the caller's own:
	// another staff token's "1" is another quote.
	if k := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key")); k != "" {
		if len(k) > 200 {
			return fmt.Errorf("%w: Idempotency-Key is at most 200 characters", invoicing.ErrInvalid)
		}
		p, _ := auth.FromContext(c)
		req.Key = "api-quote\x00" + p.TokenID + "\x00" + p.Subject + "\x00" + k
	}
	q, err := a.svc.CreateQuote(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"quote_id": q.QuoteID, "subtotal": q.Subtotal, "tax": q.Tax,
		"total": q.Total, "issued_at": q.IssuedAt, "valid_days": q.ValidDays, "replaces": q.Replaces,
		"replace_reason": q.ReplaceReason,
		"pdf":            base(c, "/quotes") + "/quotes/" + q.QuoteID + "/pdf"})
}

// quoteJSON is a quote as the list and a withdrawal show it.
type quoteJSON struct {
	QuoteID   string    `json:"quote_id"`
	Agency    string    `json:"agency"`
	Total     int64     `json:"total"`
	IssuedAt  time.Time `json:"issued_at"`
	ValidDays int       `json:"valid_days"`
	Status    string    `json:"status"` // valid, expired, accepted, withdrawn or replaced
	Replaces  string    `json:"replaces,omitempty"`
	// ReplaceReason is why a replacement replaces the quote it names.
	ReplaceReason string     `json:"replace_reason,omitempty"`
	ContractID    string     `json:"contract_id,omitempty"`
	Withdrawn     *time.Time `json:"withdrawn_at,omitempty"`
	Reason        string     `json:"withdrawal_reason,omitempty"`
	ReplacedBy    string     `json:"replaced_by,omitempty"`
	PDF           string     `json:"pdf"`
}

func quoteToJSON(q invoicing.Quote, prefix string) quoteJSON {
	j := quoteJSON{QuoteID: q.QuoteID, Agency: q.Agency, Total: q.Total, IssuedAt: q.IssuedAt, ValidDays: q.ValidDays,
		Status: string(q.Status), Replaces: q.Replaces, ReplaceReason: q.ReplaceReason, PDF: prefix + "/quotes/" + q.QuoteID + "/pdf"}
	if q.Contract != nil {
		j.ContractID = q.Contract.ContractID
	}
	if w := q.Withdrawal; w != nil {
		at := q.WithdrawnAt
		j.Withdrawn, j.Reason, j.ReplacedBy = &at, w.Reason, w.ReplacedBy
	}
	return j
}

// quotes lists every quote by issue time, with where it stands now.
func (a *api) quotes(c echo.Context) error {
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	r, err := paging.Parse(c.QueryParams(), invoicesPage)
	if err != nil {
		return fmt.Errorf("%w: %v", invoicing.ErrInvalid, err)
	}
	prefix := base(c, "/quotes")
	page, resp := paging.Cut(a.svc.Quotes(), r)
	out := make([]quoteJSON, 0, len(page))
	for _, q := range page {
		out = append(out, quoteToJSON(q, prefix))
	}
	resp["quotes"] = out
	return c.JSON(http.StatusOK, resp)
}

// withdrawQuote takes back a quote issued with a mistake; the reason is
// required and printed on the quote's PDF.
func (a *api) withdrawQuote(c echo.Context) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	q, err := a.svc.WithdrawQuote(c.Request().Context(), c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, quoteToJSON(q, base(c, "/quotes")))
}

func (a *api) quotePDF(c echo.Context) error {
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	id := c.Param("id")
	return sendPDF(c, id+".pdf", func(b *bytes.Buffer) error { return a.svc.QuotePDF(b, id) })
}

func (a *api) acceptQuote(c echo.Context) error {
	var req struct {
		Start  string `json:"start,omitempty"`  // YYYY-MM-DD, Taipei; default: next month
		Months *int   `json:"months,omitempty"` // default: invoicing.DefaultContractMonths
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	months := 0 // the default
	if req.Months != nil {
		if months = *req.Months; months <= 0 {
			return fmt.Errorf("%w: months must be 1 to %d (%d given); leave it out for %d",
				invoicing.ErrInvalid, invoicing.MaxContractMonths, months, invoicing.DefaultContractMonths)
		}
	}
	var start time.Time
	if req.Start != "" {
		var err error
		if start, err = time.ParseInLocation("2006-01-02", req.Start, twrules.Taipei); err != nil {
			return fmt.Errorf("%w: start %s: want YYYY-MM-DD", invoicing.ErrInvalid, domain.Quote(req.Start))
		}
	}
	q, err := a.svc.AcceptQuote(c.Request().Context(), c.Param("id"), start, months)
	if err != nil {
		return err
	}
	k := q.Contract
	return c.JSON(http.StatusOK, map[string]any{"quote_id": q.QuoteID, "contract_id": k.ContractID,
		"period_start": k.PeriodStart, "period_end": k.PeriodEnd, "plan": k.Plan,
		"pdf": base(c, "/quotes") + "/contracts/" + k.ContractID + "/pdf"})
}

func (a *api) contractPDF(c echo.Context) error {
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	id := c.Param("id")
	return sendPDF(c, id+".pdf", func(b *bytes.Buffer) error { return a.svc.ContractPDF(b, id) })
}

// customerAccount is the caller's own account; staff have none here.
func customerAccount(c echo.Context) (string, error) {
	p, ok := auth.FromContext(c)
	if !ok || p.Staff || p.AccountID == "" {
		return "", echo.NewHTTPError(http.StatusForbidden, "sign in with an API key of your account")
	}
	return p.AccountID, nil
}

func (a *api) customerList(c echo.Context) error {
	acct, err := customerAccount(c)
	if err != nil {
		return err
	}
	return a.listFor(c, acct, false)
}

// customerPDF answers 404 for another account's invoice, as for a missing
// one: a customer learns nothing of other accounts' numbers. A number
// names the caller's own invoice, even when another account's invoice of
// another period has the same number.
func (a *api) customerPDF(c echo.Context) error {
	acct, err := customerAccount(c)
	if err != nil {
		return err
	}
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	ref, err := invoiceRef(c)
	if err != nil {
		return err
	}
	inv, err := a.svc.AccountInvoice(acct, ref)
	if err != nil {
		return err
	}
	return sendPDF(c, inv.Number+".pdf", func(b *bytes.Buffer) error {
		return a.svc.InvoicePDF(b, invoicing.InvoiceRef(inv.Period, inv.Number))
	})
}

// customerAllowances lists the allowances against the caller's invoices.
func (a *api) customerAllowances(c echo.Context) error {
	acct, err := customerAccount(c)
	if err != nil {
		return err
	}
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	prefix := base(c, "/allowances")
	out := []allowanceJSON{}
	for _, inv := range a.svc.Invoices("", acct) {
		for _, al := range inv.Allowances {
			out = append(out, allowanceToJSON(al, prefix))
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"allowances": out})
}

// customerAllowancePDF answers 404 for another account's allowance.
func (a *api) customerAllowancePDF(c echo.Context) error {
	acct, err := customerAccount(c)
	if err != nil {
		return err
	}
	if err := a.svc.SyncLatest(c.Request().Context()); err != nil {
		return err
	}
	n := c.Param("number")
	inv, err := a.svc.AllowanceInvoice(n)
	if err != nil || inv.AccountID != acct {
		return fmt.Errorf("%w: allowance %s", invoicing.ErrNotFound, domain.Excerpt(n))
	}
	return sendPDF(c, n+".pdf", func(b *bytes.Buffer) error { return a.svc.AllowancePDF(b, n) })
}
