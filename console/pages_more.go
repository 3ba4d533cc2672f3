package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/width"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
)

const quoteRows = 5

// quoteDraft is what the quote builder shows: blank for a new quote, or
// the quote that a replacement starts from, which it names.
type quoteDraft struct {
	Replaces                                    string
	Agency, TaxID, Addr, Contact, Remarks, Plan string
	ValidDays                                   int
	Rows                                        []quoteRow
}

// quoteRow is one row of the builder: its number and, when prefilled, its item.
type quoteRow struct {
	N    int
	Item *domain.QuoteItem
}

// draftOf is the builder's draft: from the quote being replaced, with a
// blank row or more to add items, or blank.
func draftOf(from *invoicing.Quote) quoteDraft {
	d := quoteDraft{ValidDays: 30}
	var items []domain.QuoteItem
	if from != nil {
		q := from.QuoteIssued
		d = quoteDraft{Replaces: q.QuoteID, Agency: q.Agency, TaxID: q.AgencyTaxID, Addr: q.AgencyAddr, Contact: q.Contact,
			Remarks: q.Remarks, Plan: q.ContractPlan, ValidDays: q.ValidDays}
		items = q.Items
	}
	d.Rows = make([]quoteRow, max(quoteRows, len(items)+1))
	for i := range d.Rows {
		d.Rows[i].N = i + 1
		if i < len(items) {
			d.Rows[i].Item = &items[i]
		}
	}
	return d
}

func (s *server) quotesData(q, replacing *invoicing.Quote) map[string]any {
	return map[string]any{"Quote": q, "Available": s.deps.Invoices != nil, "Plans": plans, "Draft": draftOf(replacing),
		"Once": randomToken()} // the form's one-time token
}

// quoteLister is the part of invoicing that lists quotes and finds one.
type quoteLister interface {
	Sync(ctx context.Context) error
	Quotes() []invoicing.Quote
	Quote(id string) (invoicing.Quote, error)
}

func (s *server) quotesPage(c echo.Context) error {
	return s.renderQuotes(c, nil, nil)
}

// quotePage is a quote's own page, where the quote form leads: the quote
// with its PDF, above the builder and the list.
func (s *server) quotePage(c echo.Context) error {
	q, err := s.pathQuote(c)
	if err != nil {
		return err
	}
	return s.renderQuotes(c, &q, nil)
}

// pathQuote is the quote the path's :id names, read once invoicing has
// caught up with the store.
func (s *server) pathQuote(c echo.Context) (invoicing.Quote, error) {
	ql, ok := s.deps.Invoices.(quoteLister)
	if !ok {
		return invoicing.Quote{}, echo.NewHTTPError(http.StatusServiceUnavailable, "the quotation service is not configured")
	}
	if err := ql.Sync(c.Request().Context()); err != nil {
		return invoicing.Quote{}, err
	}
	q, err := ql.Quote(c.Param("id"))
	if err != nil {
		return invoicing.Quote{}, invoicingError(err)
	}
	return q, nil
}

// quoteReplacePage is the builder filled in from a quote, to issue another
// in its place with a reason: the form names the quote it replaces, which
// invoicing withdraws as it issues the new one (or refuses, if the quote
// was accepted or withdrawn meanwhile).
func (s *server) quoteReplacePage(c echo.Context) error {
	q, err := s.pathQuote(c)
	if err != nil {
		return err
	}
	return s.renderQuotes(c, nil, &q)
}

func (s *server) renderQuotes(c echo.Context, q, replacing *invoicing.Quote) error {
	data := s.quotesData(q, replacing)
	if ql, ok := s.deps.Invoices.(quoteLister); ok {
		if err := ql.Sync(c.Request().Context()); err != nil {
			return err
		}
		data["Quotes"], data["List"] = quoteList.apply(c, ql.Quotes())
	}
	return s.render(c, http.StatusOK, "quotes", s.newPage(c, "title.quotes", data))
}

// quoteForm turns the builder's rows into a quotation request for invoicing
// and leads to the new quote's page (a refresh there issues nothing); the
// form's one-time token makes the same form sent twice issue one quote.
// The PDF is served by invoicing/httpapi, to which the quote's page links.
func (s *server) quoteForm(c echo.Context) error {
	if s.deps.Invoices == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the quotation service is not configured")
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	req := invoicing.QuoteRequest{Agency: form.Get("agency"), AgencyTaxID: domain.TaxIDAsTyped(form.Get("agency_tax_id")),
		AgencyAddr: form.Get("agency_address"), Contact: form.Get("contact"), Remarks: form.Get("remarks"),
		Plan: domain.Plan(form.Get("plan")), Replaces: strings.TrimSpace(form.Get("replaces")), Reason: form.Get("reason")}
	if req.ValidDays, err = intField(width.Narrow.String(form.Get("valid_days"))); err != nil {
		return err
	}
	names := form["item_name"]
	for i, name := range names {
		if strings.TrimSpace(name) == "" {
			continue
		}
		at := func(k string) string {
			if v := form[k]; i < len(v) {
				return strings.TrimSpace(v[i])
			}
			return ""
		}
		// A quantity is typed as an amount is: 1e3 or +1 is a slip.
		qty, err := amount("item_qty", at("item_qty"))
		if err != nil {
			return err
		}
		price, err := amount("item_price", at("item_price"))
		if err != nil {
			return err
		}
		req.Items = append(req.Items, domain.QuoteItem{Name: strings.TrimSpace(name), Spec: at("item_spec"), Quantity: qty, Unit: at("item_unit"), UnitPrice: price})
	}
	if req.Replaces != "" && c.FormValue(confirmField) != "yes" {
		return s.confirmReplacement(c, req, form)
	}
	// The form's one-time token also names the quote, so that a copy of the
	// form reaching another instance is answered with the same quote.
	req.Key = "console-quote\x00" + strings.TrimSpace(c.FormValue(onceField))
	return s.actOnce(c, func() (string, string, error) {
		q, err := s.deps.Invoices.CreateQuote(c.Request().Context(), req)
		if err != nil {
			if errors.Is(err, invoicing.ErrInvalid) {
				return "", "", echo.NewHTTPError(http.StatusBadRequest, err.Error())
			}
			return "", "", err
		}
		return "/console/quotes/" + url.PathEscape(q.QuoteID), "quote.issued.ok", nil
	})
}

// confirmReplacement asks before a replacement withdraws the quote it
// replaces, which cannot be undone: the step names that quote, the
// reason and the new total, and sends the whole form on (every item row,
// the one-time token) once confirmed.
func (s *server) confirmReplacement(c echo.Context, req invoicing.QuoteRequest, form url.Values) error {
	_, _, total := invoicing.QuoteTotals(req.Items)
	st := confirmStep{Action: "confirm.replacequote", Target: req.Replaces, Danger: true, Post: "/console/quotes",
		Back: "/console/quotes/" + url.PathEscape(req.Replaces), Note: "confirm.withdrawquote.note",
		Facts: [][2]string{{"quote.replace.reason", strings.TrimSpace(req.Reason)}, {"agency", req.Agency}, {"total", ntd(total)}}}
	for name, values := range form {
		if name == "csrf" || name == confirmField {
			continue
		}
		for _, v := range values {
			st.Fields = append(st.Fields, [2]string{name, v})
		}
	}
	sort.SliceStable(st.Fields, func(i, j int) bool { return st.Fields[i][0] < st.Fields[j][0] }) // each field's values (the rows) keep their order
	p := s.newPage(c, "title.confirm", nil)
	p.Data = st
	return s.render(c, http.StatusOK, "confirm", p)
}

// quoteWithdrawer is the part of invoicing that withdraws a quote.
type quoteWithdrawer interface {
	WithdrawQuote(ctx context.Context, id, reason string) (invoicing.Quote, error)
}

// quoteWithdrawForm takes back a quote after a confirmation step, and
// leads back to the quote's page, which then shows it withdrawn.
func (s *server) quoteWithdrawForm(c echo.Context) error {
	w, ok := s.deps.Invoices.(quoteWithdrawer)
	if !ok {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the quotation service is not configured")
	}
	id := c.Param("id")
	page := "/console/quotes/" + url.PathEscape(id)
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.withdrawquote", Target: id, Danger: true, Back: page,
		Note: "confirm.withdrawquote.note", Post: page + "/withdraw"}, "reason"); !ok {
		return err
	}
	return s.actOnce(c, func() (string, string, error) {
		if _, err := w.WithdrawQuote(c.Request().Context(), id, c.FormValue("reason")); err != nil {
			return "", "", invoicingError(err)
		}
		return page, "quote.withdrawn.ok", nil
	})
}

func intField(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n := 0
	for _, r := range v {
		if r < '0' || r > '9' || n > 100000 {
			return 0, echo.NewHTTPError(http.StatusBadRequest, "valid days must be a whole number")
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}

// eventTypes are the filter's choices.
var eventTypes = []string{
	domain.TypeAccountOpened, domain.TypePlanChanged, domain.TypeAccountSuspended, domain.TypeAccountResumed, domain.TypeKeyIssued, domain.TypeKeyRevoked,
	domain.TypeCreditsToppedUp, domain.TypeCreditsAdjusted, domain.TypePriceListPublished, domain.TypeRequestCompleted,
	domain.TypeRequestFailed, domain.TypeInvoiceIssued, domain.TypeInvoiceVoided, domain.TypeAllowanceIssued,
	domain.TypeQuoteIssued, domain.TypeQuoteAccepted, domain.TypeContractIssued, domain.TypeInvoiceRangeSet,
	domain.TypeStaffTokenIssued, domain.TypeStaffTokenRevoked,
	domain.TypeAllowanceVoided, domain.TypeDataRequirementSet, domain.TypeInvoiceCarrierSet, domain.TypeDocumentUploaded,
	domain.TypeDocumentRejected, domain.TypePaymentCheckoutStarted, domain.TypePaymentAccountAssigned, domain.TypePaymentNotificationRefuse,
	domain.TypeKeyChanged, domain.TypeRankingsListed, domain.TypeKeyDisabled, domain.TypeKeyEnabled, domain.TypeDetailsChanged,
	domain.TypeInvoiceNumbersSkipped, domain.TypeQuoteWithdrawn, domain.TypeKeyExpiryChanged, domain.TypeInvoiceRangeWithdrawn,
	domain.TypeKeySlotTaken, domain.TypeKeySlotFreed,
}

// auditPage shows the event log, newest first, searched, filtered and
// paged, and, on request (the checks read the whole history), the
// hash-chain verdict and the replay comparison.
func (s *server) auditPage(c echo.Context) error {
	f, err := filterFrom(c.QueryParam)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	l := newList(c, "", nil)
	l.hash = "events"
	if l.Sort != "time" {
		l.Sort, l.Desc = "time", c.QueryParam("dir") != "asc"
	}
	q := auditQuery{EventFilter: f, Q: l.Q, Oldest: !l.Desc, Page: max(l.Page, 1), Size: defaultPageSize}
	evs, total, truncated, err := s.auditLog(ctx, q)
	if err != nil {
		return err
	}
	if q.Page > 1 && len(evs) == 0 && total > 0 { // past the end: the last page
		l.setPage(total, q.Size)
		q.Page = l.Page
		if evs, total, truncated, err = s.auditLog(ctx, q); err != nil {
			return err
		}
	}
	l.setPage(total, q.Size)
	l.All = total
	data := map[string]any{"Filter": f, "Types": eventTypes, "Events": evs, "Since": c.QueryParam("since"), "Until": c.QueryParam("until"),
		"List": l, "Truncated": truncated, "Export": q.exportURL(c.QueryParam("since"), c.QueryParam("until")),
		"ExportFiltered": q.filtered()}
	if c.QueryParam("check") == "1" {
		v, err := s.verify(ctx)
		if err != nil {
			return err
		}
		cmp, err := s.compare(ctx)
		if err != nil {
			return err
		}
		data["Checked"], data["Verdict"], data["Comparison"] = true, v, cmp
	}
	return s.render(c, http.StatusOK, "audit", s.newPage(c, "title.audit", data))
}

// modelRow is one model of the public page, prices in NTD per million tokens.
type modelRow struct {
	ID, Name, Input, Output, Cached, CacheWrite, CacheWrite1h, Modalities string
	Context                                                               int64
}

func (s *server) modelsPage(c echo.Context) error {
	ver, prices, _ := s.deps.Models.Prices.At(s.deps.now())
	var rows []modelRow
	for _, id := range s.deps.Catalog.IDs() {
		m, _ := s.deps.Catalog.Get(id)
		p, priced := prices[id]
		if !priced { // it would be refused: not offered at a price of 0
			continue
		}
		rows = append(rows, modelRow{ID: m.ID, Name: m.Name, Context: m.ContextLength, Input: p.Input.String(),
			Output: p.Output.String(), Cached: p.CachedInput.String(), CacheWrite: p.CacheWritePrice().String(),
			CacheWrite1h: p.CacheWrite1hPrice().String(),
			Modalities:   strings.Join(m.InputModalities, "+") + " → " + strings.Join(m.OutputModalities, "+")})
	}
	rows, l := modelList.apply(c, rows)
	data := map[string]any{"Query": c.QueryParam("q"), "Models": rows, "PriceList": ver, "List": l}
	return s.render(c, http.StatusOK, "models", s.newPage(c, "title.models", data))
}
