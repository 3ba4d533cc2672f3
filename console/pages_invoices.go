package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

// Finance is what the console's invoice pages need of invoicing beyond
// quotes: the ledger, its corrections, the monthly close, number ranges,
// the MIG exports, the Turnkey outbox and the reconciliation.
// *invoicing.Service fits; without it the pages list the projection's
// invoices and the actions answer 503.
type Finance interface {
	Sync(ctx context.Context) error
	Invoices(month, acct string) []invoicing.Invoice
	InvoiceMonth(inv invoicing.Invoice) string
	RecordMonth(r projections.InvoiceRecord) string
	Invoice(number string) (invoicing.Invoice, error)
	NumberReused(number string) bool
	Void(ctx context.Context, number, reason string) (invoicing.Invoice, error)
	VoidLess(ctx context.Context, number, reason string, less int64) (invoicing.Invoice, error)
	SpecialVoid(ctx context.Context, number, reason string, approval domain.SpecialVoid) (invoicing.Invoice, error)
	VoidWindowClosed(inv invoicing.Invoice) *invoicing.VoidWindowError
	AllowanceBeforeFiling(inv invoicing.Invoice) *invoicing.B2CAllowanceError
	IssueAllowance(ctx context.Context, number string, amount int64, reason string) (invoicing.Allowance, error)
	VoidAllowance(ctx context.Context, number, reason string) (invoicing.Allowance, error)
	Close(ctx context.Context, month string, opts invoicing.CloseOptions) (invoicing.CloseReport, error)
	AddRange(ctx context.Context, period, prefix string, from, to int64, opts ...invoicing.RangeOption) (added bool, err error)
	WithdrawRange(ctx context.Context, period, prefix string, from, to int64, reason string) (withdrawn bool, err error)
	PeriodEnded(period string) bool
	RangeStatus(period string) invoicing.RangeStatus
	Export(w io.Writer, message, period string) error
	Outbox(ctx context.Context, root string) (invoicing.OutboxReport, error)
	Documents() []invoicing.Document
	Reconcile(ctx context.Context, month string) (invoicing.Reconciliation, error)
}

var _ Finance = (*invoicing.Service)(nil)

// confirmField must be "yes" on every irreversible form: without it the
// handler shows a confirmation step and changes nothing.
const confirmField = "confirm"

// returnedField carries the money returned that a plan change's
// confirmation named, so that a different amount by the click asks again.
const returnedField = "returned"

// allowanceFlash is the answer to an allowance. One on a monthly invoice
// leaves the balance as it is (docs/invoicing-ledger.md), so the answer
// says to credit it, else the customer owes more than the invoice bills;
// one on a top-up invoice follows a refund already recorded.
func allowanceFlash(f Finance, invoice string) string {
	if inv, err := f.Invoice(invoice); err == nil && inv.TopUpRef != "" {
		return "allowance.issued.ok"
	}
	return "allowance.issued.credit"
}

// allowancesField is how many allowances the invoice had when its
// allowance form was shown: the allowance the form issues is the next.
const allowancesField = "allowances"

// hiddenFields are sent on by the confirmation step but not shown in it.
var hiddenFields = map[string]bool{"back_month": true, onceField: true, allowancesField: true}

// registerInvoicePages mounts finance's invoice actions beside the list.
func (s *server) registerInvoicePages(g *echo.Group, finance, books echo.MiddlewareFunc) {
	g.GET("/invoices/export", s.exportForm, books)
	g.POST("/invoices/close", s.closeForm, finance)
	g.POST("/invoices/ranges", s.rangeForm, finance)
	g.POST("/invoices/ranges/withdraw", s.withdrawRangeForm, finance)
	g.POST("/invoices/outbox", s.outboxForm, finance)
	g.POST("/invoices/:number/void", s.voidForm, finance)
	g.POST("/invoices/:number/special-void", s.specialVoidForm, finance)
	g.POST("/invoices/:number/allowances", s.allowanceForm, finance)
	g.POST("/allowances/:number/void", s.voidAllowanceForm, finance)
}

// caughtUp waits, after an invoicing action, until the projections show it.
func (s *server) caughtUp(c echo.Context) error {
	return caughtUp(c.Request().Context(), s.deps.Runner)
}

func (s *server) finance() (Finance, error) {
	f, ok := s.deps.Invoices.(Finance)
	if !ok || f == nil {
		return nil, echo.NewHTTPError(http.StatusServiceUnavailable, "invoicing is not configured")
	}
	return f, nil
}

// countedInvoices are an account's invoice records ("": everyone's), each
// in the month invoicing counts it in (Finance.RecordMonth).
func (s *server) countedInvoices(account string) []projections.InvoiceRecord {
	if s.deps.Models.Invoices == nil {
		return nil
	}
	recs := s.deps.Models.Invoices.List("", account)
	f, ok := s.deps.Invoices.(Finance)
	if !ok || f == nil {
		return recs
	}
	for i := range recs {
		recs[i].Month = f.RecordMonth(recs[i])
	}
	return recs
}

// invoicingError maps invoicing's errors to statuses for the error page.
func invoicingError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, invoicing.ErrInvalid):
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	case errors.Is(err, invoicing.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	case errors.Is(err, invoicing.ErrConflict), errors.Is(err, invoicing.ErrVoidWindowClosed),
		errors.Is(err, invoicing.ErrNoRange), errors.Is(err, invoicing.ErrRangeExhausted):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	}
	return err
}

// InvoiceRow is one invoice as the list shows it; amounts in whole NTD.
type InvoiceRow struct {
	// Ref names the invoice in links and forms: its number, or its period
	// and number when the number was issued in another period too.
	Ref                                               string
	Number, Period, Month, AccountID, Kind, BuyerName string
	IssuedAt                                          time.Time
	Sales, Tax, Total, Allowed, Net                   int64
	Voided                                            bool
	VoidReason                                        string
	// Special is a special void's approval (專案作廢); nil otherwise.
	Special           *domain.SpecialVoid
	Allowances        []invoicing.Allowance
	CanVoid, CanAllow bool
	// VoidLate is why the invoice can no longer be voided (its period's
	// filing deadline has passed, the server's refusal), shown in place
	// of the void; "" while it may be. CanSpecialVoid then offers to
	// record the tax office's special void, once its allowances are voided.
	VoidLate       string
	CanSpecialVoid bool
	// AllowEarly is why the invoice takes no allowance yet (its buyer has
	// no 統一編號 and its period is not filed: it is voided and issued
	// again instead, the server's refusal), shown in place of the
	// allowance form; "" while it may.
	AllowEarly string
	// CanVoidLess offers, with the void of a monthly invoice, the amount
	// to take off its re-issue (invoicing.Service.VoidLess).
	CanVoidLess bool
	// Today is the Taipei day, the latest an approval may bear.
	Today string
}

// MonthTotal sums one month's invoices; voided ones count in Voided only.
type MonthTotal struct {
	Month                                    string
	Count, Voided                            int
	Sales, Tax, Total, Allowances, VoidedNTD int64
	Net                                      int64
}

func (t *MonthTotal) add(r InvoiceRow) {
	t.Count++
	if r.Voided {
		t.Voided++
		t.VoidedNTD += r.Total
		return
	}
	t.Sales += r.Sales
	t.Tax += r.Tax
	t.Total += r.Total
	t.Allowances += r.Allowed
	t.Net += r.Net
}

// invoiceRow is an invoice as the invoices page lists it, in the month it
// counts in (invoicing.Service.InvoiceMonth).
func invoiceRow(inv invoicing.Invoice, month string, reused bool, late *invoicing.VoidWindowError, early *invoicing.B2CAllowanceError) InvoiceRow {
	ref := inv.Number
	if reused {
		ref = invoicing.InvoiceRef(inv.Period, inv.Number)
	}
	r := InvoiceRow{Ref: ref, Number: inv.Number, Period: inv.Period, Month: month, AccountID: inv.AccountID, Kind: inv.Kind,
		BuyerName: inv.BuyerName, IssuedAt: inv.IssuedAt, Sales: inv.Sales, Tax: inv.Tax, Total: inv.Total,
		Voided: inv.Voided, VoidReason: inv.VoidReason, Special: inv.Special, Allowances: inv.Allowances, Net: inv.Net()}
	live := 0
	for _, a := range inv.Allowances {
		if !a.Voided {
			r.Allowed += a.Sales + a.Tax
			live++
		}
	}
	if late != nil && !inv.Voided {
		r.VoidLate = late.Error()
	}
	r.CanVoid = !inv.Voided && live == 0 && r.VoidLate == ""
	r.CanSpecialVoid = !inv.Voided && live == 0 && r.VoidLate != ""
	if early != nil && !inv.Voided && r.Net > 0 {
		r.AllowEarly = early.Error()
	}
	r.CanAllow = !inv.Voided && r.Net > 0 && r.AllowEarly == ""
	r.CanVoidLess = r.CanVoid && inv.TopUpRef == "" && len(inv.TopUps) == 0 && inv.Total >= 2
	return r
}

// canVoidLess reports whether the void of invoice ref may take an amount
// off its re-issue now, as its row on the invoices page says.
func canVoidLess(f Finance, ref string) bool {
	inv, err := f.Invoice(ref)
	return err == nil && invoiceRow(inv, "", false, f.VoidWindowClosed(inv), nil).CanVoidLess
}

// invoicesPage lists a month's invoices with their totals and, for finance
// and auditors, the number ranges, the documents still to file and the
// reconciliation; finance's forms sit beside each.
func (s *server) invoicesPage(c echo.Context) error {
	month := c.QueryParam("month")
	if month == "" {
		month = projections.MonthOf(s.deps.now())
	}
	if _, err := invoicing.ParseMonth(month); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	f, err := s.finance()
	if err != nil { // no invoicing service: the projection's list only
		return s.projectionInvoices(c, month)
	}
	ctx := c.Request().Context()
	if err := f.Sync(ctx); err != nil {
		return err
	}
	now := s.deps.now()
	totals := map[string]*MonthTotal{}
	var rows []InvoiceRow
	all := f.Invoices("", "")
	for _, inv := range all {
		r := invoiceRow(inv, f.InvoiceMonth(inv), f.NumberReused(inv.Number), f.VoidWindowClosed(inv), f.AllowanceBeforeFiling(inv))
		r.Today = now.In(twrules.Taipei).Format(time.DateOnly)
		t := totals[r.Month]
		if t == nil {
			t = &MonthTotal{Month: r.Month}
			totals[r.Month] = t
		}
		t.add(r)
		if r.Month == month {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].IssuedAt.Equal(rows[j].IssuedAt) {
			return rows[i].IssuedAt.Before(rows[j].IssuedAt)
		}
		return rows[i].Number < rows[j].Number
	})
	var months []MonthTotal
	for _, t := range totals {
		months = append(months, *t)
	}
	sort.Slice(months, func(i, j int) bool { return months[i].Month > months[j].Month })
	cur := MonthTotal{Month: month}
	if t := totals[month]; t != nil {
		cur = *t
	}

	// Ranges matter for what is issued now and next; exports for any
	// period that has invoices.
	period := twrules.PeriodOf(now)
	ranges := []invoicing.RangeStatus{f.RangeStatus(period.String()), f.RangeStatus(period.Next().String())}
	periods := map[string]bool{period.String(): true}

	for _, inv := range all {
		periods[inv.Period] = true
	}
	var exportPeriods []string
	for p := range periods {
		exportPeriods = append(exportPeriods, p)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(exportPeriods)))

	var filing []FilingRow
	for _, d := range f.Documents() {
		if d.Status == invoicing.FilingUploaded {
			continue
		}
		filing = append(filing, FilingRow{Document: d, Due: d.Due(now), Late: !now.Before(d.Deadline),
			LastDay: twrules.LastUploadDay(d.Deadline)})
	}
	// Rejected first, then by deadline; a backlog shows its most urgent part.
	sort.SliceStable(filing, func(i, j int) bool {
		ri, rj := filing[i].Status == invoicing.FilingRejected, filing[j].Status == invoicing.FilingRejected
		return ri && !rj
	})
	filingMore := 0
	if len(filing) > maxFilingRows {
		filingMore = len(filing) - maxFilingRows
		filing = filing[:maxFilingRows]
	}
	recon, err := f.Reconcile(ctx, month)
	if err != nil {
		return invoicingError(err)
	}
	// The close form offers the month shown only once it has ended in
	// Taipei; before then (the current month, shown by default) the close
	// is refused, so it offers the last month that has ended.
	thisMonth, _ := invoicing.ParseMonth(projections.MonthOf(now))
	lastEnded := thisMonth.AddDate(0, -1, 0).Format("2006-01")
	closeMonth := min(month, lastEnded)
	rows, l := invoiceList.apply(c, rows)
	var reconL *List
	recon.Rows, reconL = reconList.apply(c, recon.Rows)
	data := map[string]any{
		"List": l, "ReconList": reconL,
		"Month": month, "CloseMonth": closeMonth, "LastEnded": lastEnded, "Months": months, "Invoices": rows, "Totals": cur, "Ranges": ranges,
		"Period": period.String(), "NextPeriod": period.Next().String(), "ExportPeriods": exportPeriods, "Filing": filing, "FilingMore": filingMore,
		"Recon": recon, "Messages": invoicing.Messages,
		"Outbox": s.deps.TurnkeyDir != "", "CanAct": principal(c).Role == auth.Finance,
		"LowShare": invoicing.LowRangeShare,
		"Once":     randomToken(), // the forms' one-time token
	}
	return s.render(c, http.StatusOK, "invoices", s.newPage(c, "title.invoices", data))
}

// maxFilingRows bounds the filing list; the rest is counted.
const maxFilingRows = 200

// FilingRow is a document still to upload, or rejected.
type FilingRow struct {
	invoicing.Document
	Due, Late bool
	LastDay   string // last Taipei day of the upload window
}

// projectionInvoices is the list without an invoicing service.
func (s *server) projectionInvoices(c echo.Context, month string) error {
	totals := map[string]*MonthTotal{}
	var rows []InvoiceRow
	for _, r := range s.deps.Models.Invoices.List("", "") {
		row := InvoiceRow{Ref: r.Ref(), Number: r.Number, Period: r.Period, Month: r.Month, AccountID: r.AccountID, Kind: r.Kind,
			BuyerName: r.BuyerName, IssuedAt: r.IssuedAt, Sales: r.Sales, Tax: r.Tax, Total: r.Total,
			Voided: r.Status == projections.InvoiceVoided, VoidReason: r.VoidReason, Net: r.Net()}
		for _, a := range r.Allowances {
			if !a.Voided {
				row.Allowed += a.Sales + a.Tax
			}
		}
		if totals[r.Month] == nil {
			totals[r.Month] = &MonthTotal{Month: r.Month}
		}
		totals[r.Month].add(row)
		if r.Month == month {
			rows = append(rows, row)
		}
	}
	var months []MonthTotal
	for _, t := range totals {
		months = append(months, *t)
	}
	sort.Slice(months, func(i, j int) bool { return months[i].Month > months[j].Month })
	cur := MonthTotal{Month: month}
	if t := totals[month]; t != nil {
		cur = *t
	}
	rows, l := invoiceList.apply(c, rows)
	data := map[string]any{"Month": month, "Months": months, "Invoices": rows, "Totals": cur, "List": l}
	return s.render(c, http.StatusOK, "invoices", s.newPage(c, "title.invoices", data))
}

// confirmStep is what the confirmation page shows: the action in words,
// the fields it will send again, and where to go back.
type confirmStep struct {
	Action string // message key of the question
	Target string // what it acts on (an invoice number, a month, a name…)
	// TargetID follows Target outside its isolation: the ID of a named
	// thing, which the name (stored text) must not reorder.
	TargetID string
	Facts    [][2]string
	Post     string
	Fields   [][2]string
	Back     string
	Note     string // message key of what cannot be undone (default confirm.irreversible)
	// Warnings are message keys of what the caller in particular should
	// know before going on (that it signs them out, say).
	Warnings []string
	Danger   bool
}

// confirmed reports whether the form carries the confirmation; if not, it
// renders the confirmation step (200, nothing changed). The step carries
// the form's one-time token on, or a new one for a form that had none.
func (s *server) confirmed(c echo.Context, st confirmStep, fields ...string) (bool, error) {
	if c.FormValue(confirmField) == "yes" {
		return true, nil
	}
	return false, s.askConfirmation(c, st, fields...)
}

// askConfirmation renders the confirmation step whatever the form carries:
// for a confirmation given to facts that have since changed.
func (s *server) askConfirmation(c echo.Context, st confirmStep, fields ...string) error {
	p := s.newPage(c, "title.confirm", nil)
	for _, f := range fields {
		v := strings.TrimSpace(c.FormValue(f))
		st.Fields = append(st.Fields, [2]string{f, v})
		if !hiddenFields[f] {
			st.Facts = append(st.Facts, [2]string{"field." + f, v})
		}
	}
	if !hasField(st.Fields, onceField) {
		tok, err := formToken(c)
		if err != nil {
			tok = randomToken()
		}
		st.Fields = append(st.Fields, [2]string{onceField, tok})
	}
	if st.Note == "" {
		st.Note = "confirm.irreversible"
	}
	if st.Back == "" {
		st.Back = strings.TrimRight(backTo(c), "?&")
	}
	p.Data = st
	return s.render(c, http.StatusOK, "confirm", p)
}

// backTo is the invoices page of the month a form came from.
func backTo(c echo.Context) string {
	if m := c.FormValue("back_month"); m != "" {
		if _, err := invoicing.ParseMonth(m); err == nil {
			return "/console/invoices?month=" + url.QueryEscape(m) + "&"
		}
	}
	return "/console/invoices?"
}

func hasField(fields [][2]string, name string) bool {
	for _, f := range fields {
		if f[0] == name {
			return true
		}
	}
	return false
}

// financeAct runs a confirmed finance form's action once per form (see
// actOnce) and leads back to the invoices page with flash; the page then
// shows what the action recorded.
func (s *server) financeAct(c echo.Context, flash string, act func(ctx context.Context) error) error {
	return s.actOnce(c, func() (string, string, error) {
		if err := act(c.Request().Context()); err != nil {
			return "", "", invoicingError(err)
		}
		return backTo(c), flash, nil
	})
}

func (s *server) voidForm(c echo.Context) error {
	f, err := s.finance()
	if err != nil {
		return err
	}
	number := c.Param("number")
	// The amount off the re-issue is asked where one can be taken (the
	// row's CanVoidLess), or where one was sent all the same, so that its
	// refusal is seen rather than the void done for the whole amount.
	fields := []string{"reason", "back_month"}
	if strings.TrimSpace(c.FormValue("less")) != "" || canVoidLess(f, number) {
		fields = []string{"reason", "less", "back_month"}
	}
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.void", Target: number, Danger: true,
		Post: "/console/invoices/" + url.PathEscape(number) + "/void"}, fields...); !ok {
		return err
	}
	// An amount off the re-issue is optional: blank takes nothing off.
	less := int64(0)
	if v := strings.TrimSpace(c.FormValue("less")); v != "" {
		n, err := wholeNTD(v)
		if err != nil {
			return err
		}
		less = n
	}
	return s.financeAct(c, "invoice.voided.ok", func(ctx context.Context) error {
		_, err := f.VoidLess(ctx, number, c.FormValue("reason"), less)
		return err
	})
}

// specialVoidForm records the tax office's special void (專案作廢) of an
// invoice past its void window, with the approval's reference and day.
func (s *server) specialVoidForm(c echo.Context) error {
	f, err := s.finance()
	if err != nil {
		return err
	}
	number := c.Param("number")
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.specialvoid", Target: number, Danger: true,
		Post: "/console/invoices/" + url.PathEscape(number) + "/special-void"}, "reason", "special_approval", "approved_on", "back_month"); !ok {
		return err
	}
	return s.financeAct(c, "specialvoid.ok", func(ctx context.Context) error {
		_, err := f.SpecialVoid(ctx, number, c.FormValue("reason"),
			domain.SpecialVoid{Approval: c.FormValue("special_approval"), ApprovedOn: c.FormValue("approved_on")})
		return err
	})
}

func (s *server) allowanceForm(c echo.Context) error {
	f, err := s.finance()
	if err != nil {
		return err
	}
	number := c.Param("number")
	amount, err := wholeNTD(c.FormValue("amount"))
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.allowance", Target: number,
		Post: "/console/invoices/" + url.PathEscape(number) + "/allowances"}, "amount", "reason", allowancesField, "back_month"); !ok {
		return err
	}
	seen, err := strconv.Atoi(strings.TrimSpace(c.FormValue(allowancesField)))
	if err != nil || seen < 0 {
		return errNoOnce
	}
	return s.actOnce(c, func() (string, string, error) {
		ctx := c.Request().Context()
		done, err := allowanceIssued(ctx, f, number, seen, amount, reason)
		switch {
		case err != nil:
			return "", "", err
		case done:
			return backTo(c), repeatedFlash, nil
		}
		if _, err := f.IssueAllowance(ctx, number, amount, reason); err != nil {
			return "", "", invoicingError(err)
		}
		return backTo(c), allowanceFlash(f, number), nil
	})
}

// allowanceIssued reports whether the allowance form that saw seen
// allowances on the invoice already acted: the invoice's next allowance
// is there, of the same amount and reason (issued by this form on another
// server, or before a restart, which the one-time token cannot tell).
// Another allowance the form did not see is a conflict: the form is stale.
func allowanceIssued(ctx context.Context, f Finance, number string, seen int, amount int64, reason string) (bool, error) {
	if err := f.Sync(ctx); err != nil {
		return false, err
	}
	inv, err := f.Invoice(number)
	if err != nil {
		return false, invoicingError(err)
	}
	n := len(inv.Allowances)
	if n == seen {
		return false, nil
	}
	if n > seen {
		if a := inv.Allowances[seen]; a.Sales+a.Tax == amount && a.Reason == reason {
			return true, nil
		}
	}
	return false, echo.NewHTTPError(http.StatusConflict,
		fmt.Sprintf("invoice %s changed since the form was shown (%d allowances, not %d): reload the page", inv.Number, n, seen))
}

// wholeNTD parses an allowance amount: whole NTD, thousands separators
// allowed.
func wholeNTD(v string) (int64, error) {
	d, err := amount("amount", v)
	if err != nil {
		return 0, err
	}
	if !d.IsPositive() || !d.IsInteger() || !d.LessThanOrEqual(decimal.NewFromInt(math.MaxInt64)) {
		return 0, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("amount: %s is not a positive whole number of NTD", domain.Quote(strings.TrimSpace(v))))
	}
	return d.IntPart(), nil
}

func (s *server) voidAllowanceForm(c echo.Context) error {
	f, err := s.finance()
	if err != nil {
		return err
	}
	number := c.Param("number")
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.voidallowance", Target: number, Danger: true,
		Post: "/console/allowances/" + url.PathEscape(number) + "/void"}, "reason", "back_month"); !ok {
		return err
	}
	return s.financeAct(c, "allowance.voided.ok", func(ctx context.Context) error {
		_, err := f.VoidAllowance(ctx, number, c.FormValue("reason"))
		return err
	})
}

func (s *server) closeForm(c echo.Context) error {
	f, err := s.finance()
	if err != nil {
		return err
	}
	month := strings.TrimSpace(c.FormValue("month"))
	if _, err := invoicing.ParseMonth(month); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.close", Target: month, Danger: true,
		Post: "/console/invoices/close"}, "month", "back_month"); !ok {
		return err
	}
	var notInvoiced *invoicing.NotInvoicedError
	partly := 0 // invoices a close stopped midway (its range ran out) issued
	err = s.actOnce(c, func() (string, string, error) {
		rep, err := f.Close(c.Request().Context(), month, invoicing.CloseOptions{})
		if errors.As(err, &notInvoiced) {
			return "", "", err
		}
		if err != nil {
			partly = len(rep.Issued)
			return "", "", invoicingError(err)
		}
		return "/console/invoices?month=" + url.QueryEscape(month), "close.ok", nil
	})
	if notInvoiced != nil {
		return s.notInvoicedPage(c, notInvoiced)
	}
	if err != nil && partly > 0 {
		return s.closePartlyPage(c, month, partly, err)
	}
	return err
}

// closePartlyPage answers a close that issued some invoices and then
// stopped (the period's numbers ran out): the generic "nothing was
// changed" would be untrue. Sent again once a range is added, the close
// issues the rest.
func (s *server) closePartlyPage(c echo.Context, month string, issued int, cause error) error {
	p := s.newPage(c, "title.error", nil)
	code := http.StatusConflict
	var he *echo.HTTPError
	if errors.As(cause, &he) {
		code = he.Code
	}
	p.Subtitle = fmt.Sprint(code)
	text := template.HTMLEscapeString(tr(p.Lang, "close.partly"))
	text = strings.NewReplacer("{1}", "<bdi>"+template.HTMLEscapeString(month)+"</bdi>",
		"{2}", strconv.Itoa(issued)).Replace(text)
	p.Error = template.HTML(text)
	return s.render(c, code, "error", p)
}

// notInvoicedPage lists the accounts a close could not invoice, each with
// why. The close issued every other invoice; the same form sent again once
// they are fixed issues theirs.
func (s *server) notInvoicedPage(c echo.Context, nerr *invoicing.NotInvoicedError) error {
	p := s.newPage(c, "title.error", map[string]any{"NotInvoiced": nerr.Failures})
	p.Subtitle = fmt.Sprint(http.StatusBadRequest)
	key := "close.notinvoiced"
	if len(nerr.Failures) == 1 {
		key = "close.notinvoiced.one"
	}
	text := template.HTMLEscapeString(tr(p.Lang, key))
	text = strings.NewReplacer("{1}", "<bdi>"+template.HTMLEscapeString(nerr.Month)+"</bdi>",
		"{2}", strconv.Itoa(len(nerr.Failures))).Replace(text)
	p.Error = template.HTML(text)
	return s.render(c, http.StatusBadRequest, "error", p)
}

func (s *server) rangeForm(c echo.Context) error {
	f, err := s.finance()
	if err != nil {
		return err
	}
	period, r, err := rangeFields(c)
	if err != nil {
		return err
	}
	if _, err := twrules.ParsePeriod(period); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err := r.Validate(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	prefix, from, to := r.Prefix, r.From, r.To
	step := confirmStep{Action: "confirm.range", Target: period + " " + r.String(),
		Note: "confirm.range.note", Post: "/console/invoices/ranges"}
	if f.PeriodEnded(period) { // taken, as by the CLI, which warns alike
		step.Warnings = []string{"confirm.range.ended"}
	}
	if ok, err := s.confirmed(c, step, "period", "prefix", "from", "to", "back_month"); !ok {
		return err
	}
	return s.actOnce(c, func() (string, string, error) {
		added, err := f.AddRange(c.Request().Context(), period, prefix, from, to)
		if err != nil {
			return "", "", invoicingError(err)
		}
		if !added {
			return backTo(c), "range.dup", nil
		}
		return backTo(c), "range.ok", nil
	})
}

// rangeFields reads a range form's period and range. A Chinese input
// method types the 字軌 and numbers full width (ＡＢ, １２３４５０００): they
// are the same letters and digits.
func rangeFields(c echo.Context) (period string, r twrules.Range, err error) {
	from, err1 := strconv.ParseInt(formNumber(c, "from"), 10, 64)
	to, err2 := strconv.ParseInt(formNumber(c, "to"), 10, 64)
	if err1 != nil || err2 != nil {
		return "", r, echo.NewHTTPError(http.StatusBadRequest, "from and to must be eight-digit numbers")
	}
	return formNumber(c, "period"), twrules.Range{Prefix: strings.ToUpper(formNumber(c, "prefix")), From: from, To: to}, nil
}

// withdrawRangeForm withdraws a range no number was used from (one typed
// for the wrong period, say), with a reason; invoicing refuses one with a
// number used, saying what to do instead.
func (s *server) withdrawRangeForm(c echo.Context) error {
	f, err := s.finance()
	if err != nil {
		return err
	}
	period, r, err := rangeFields(c)
	if err != nil {
		return err
	}
	prefix, from, to := r.Prefix, r.From, r.To
	step := confirmStep{Action: "confirm.range.withdraw", Target: period + " " + r.String(), Danger: true,
		Note: "confirm.range.withdraw.note", Post: "/console/invoices/ranges/withdraw"}
	if ok, err := s.confirmed(c, step, "period", "prefix", "from", "to", "reason", "back_month"); !ok {
		return err
	}
	return s.actOnce(c, func() (string, string, error) {
		done, err := f.WithdrawRange(c.Request().Context(), period, prefix, from, to, c.FormValue("reason"))
		if err != nil {
			return "", "", invoicingError(err)
		}
		if !done {
			return backTo(c), "range.withdrawn.dup", nil
		}
		return backTo(c), "range.withdrawn.ok", nil
	})
}

func (s *server) outboxForm(c echo.Context) error {
	f, err := s.finance()
	if err != nil {
		return err
	}
	if s.deps.TurnkeyDir == "" {
		return echo.NewHTTPError(http.StatusNotFound, "no Turnkey folder is configured (ROUTEFREE_TURNKEY_DIR)")
	}
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.outbox", Note: "confirm.outbox.note", Post: "/console/invoices/outbox"}, "back_month"); !ok {
		return err
	}
	return s.financeAct(c, "outbox.ok", func(ctx context.Context) error {
		rep, err := f.Outbox(ctx, s.deps.TurnkeyDir)
		if err != nil {
			return err
		}
		s.deps.Logger.Info("console: Turnkey outbox", "written", len(rep.Written), "uploaded", rep.Uploaded, "rejected", rep.Rejected)
		return nil
	})
}

// exportForm downloads one MIG message type of a period as a zip.
func (s *server) exportForm(c echo.Context) error {
	f, err := s.finance()
	if err != nil {
		return err
	}
	message, period := c.QueryParam("message"), c.QueryParam("period")
	if !slices.Contains(invoicing.Messages, message) {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("message: %s is not one of %s", domain.Quote(message), strings.Join(invoicing.Messages, ", ")))
	}
	p, err := twrules.ParsePeriod(period)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err := f.Sync(c.Request().Context()); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := f.Export(&b, message, p.String()); err != nil {
		return invoicingError(err)
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.zip"`, message, p.String()))
	return c.Blob(http.StatusOK, "application/zip", b.Bytes())
}

// money formats NTD with thousands separators and two decimals, the sign
// before the currency: NT$80,000.00, -NT$0.04.
func money(d decimal.Decimal) string {
	s := d.Abs().StringFixed(2)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if d.Round(2).IsNegative() {
		b.WriteByte('-')
	}
	b.WriteString("NT$")
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	b.WriteByte('.')
	b.WriteString(frac)
	return b.String()
}

// shares shows the parts of a whole (invoiced and pending of used) to the
// cent so that, as shown, they add up to the whole as money shows it: each
// part is rounded down and the cents left go to the largest remainders, as
// an invoice's lines share its total. Rounded each on its own, NT$12.6149
// and NT$0.0049 would read NT$12.61 and NT$0.00 against NT$12.62. Parts
// that are negative, or do not add up to the whole, are shown as they are.
func shares(whole decimal.Decimal, parts ...decimal.Decimal) []decimal.Decimal {
	sum := decimal.Zero
	for _, p := range parts {
		if p.IsNegative() {
			return parts
		}
		sum = sum.Add(p)
	}
	if len(parts) == 0 || !sum.Equal(whole) {
		return parts
	}
	return twrules.Allocate(parts, whole.Round(2), 2)
}

// reasonShare is one reason's part of a pending amount, as shown.
type reasonShare struct {
	Reason string
	Amount decimal.Decimal
}

// byReason shows the pending amounts by reason, in the order of their
// reasons, as shares of the pending amount shown.
func byReason(shown decimal.Decimal, m map[string]decimal.Decimal) []reasonShare {
	reasons := slices.Sorted(maps.Keys(m))
	parts := make([]decimal.Decimal, len(reasons))
	negative := shown.IsNegative()
	for i, r := range reasons {
		parts[i] = m[r]
		negative = negative || parts[i].IsNegative()
	}
	if !negative && len(parts) > 0 {
		parts = twrules.Allocate(parts, shown, 2)
	}
	out := make([]reasonShare, len(reasons))
	for i, r := range reasons {
		out[i] = reasonShare{Reason: r, Amount: parts[i]}
	}
	return out
}

// ntd formats a whole-NTD amount like money.
func ntd(n int64) string { return money(decimal.NewFromInt(n)) }

// reasons are the message keys of the reconciliation's pending reasons.
var reasons = map[string]string{
	invoicing.ReasonMonthOpen:     "recon.monthopen",
	invoicing.ReasonAwaitingClose: "recon.awaitingclose",
	invoicing.ReasonLateUsage:     "recon.late",
	invoicing.ReasonVoided:        "recon.voided",
	invoicing.ReasonVoidedTopUp:   "recon.voidedtopup",
	invoicing.ReasonUnderOneNTD:   "recon.underone",
	invoicing.ReasonFraction:      "recon.fraction",
	invoicing.ReasonNoRange:       "recon.norange",
	invoicing.ReasonTopUpPending:  "recon.topup",
	invoicing.ReasonOverInvoiced:  "recon.over",
	invoicing.ReasonRefused:       "recon.refused",
}

// reasonText translates a pending reason; one without a message shows as
// invoicing words it.
func reasonText(lang, reason string) string {
	if k, ok := reasons[reason]; ok {
		return tr(lang, k)
	}
	return reason
}
