package invoicing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// QuoteRequest is what staff enter for a quotation (報價單).
type QuoteRequest struct {
	Agency      string             `json:"agency"`
	AgencyTaxID string             `json:"agency_tax_id,omitempty"`
	AgencyAddr  string             `json:"agency_address,omitempty"`
	Contact     string             `json:"contact,omitempty"`
	Items       []domain.QuoteItem `json:"items"`
	ValidDays   int                `json:"valid_days,omitempty"` // default 30
	Remarks     string             `json:"remarks,omitempty"`
	Plan        domain.Plan        `json:"plan,omitempty"` // plan of the contract that follows
	// Replaces, when given, is a quote this one is issued in place of: it
	// is withdrawn in the same step, and refused if it was accepted or
	// replaced already.
	Replaces string `json:"replaces,omitempty"`
	// Reason is why the quote replaces another (only with Replaces): the
	// new quote records and prints it, and the withdrawal of the old one.
	Reason string `json:"reason,omitempty"`
	// Key, when given (a form's one-time token, an API client's
	// Idempotency-Key), names the quote: the same request sent again, to
	// this instance or another, is answered with the quote the first issued.
	Key string `json:"-"`
}

// Bounds of a quote: its total, tax included, is at most MaxQuoteTotal
// (新臺幣壹拾億元整), and its text is short enough that every row of its
// PDF fits on a page.
const (
	MaxQuoteTotal int64 = 1_000_000_000
	MaxQuoteItems       = 100
	// MaxQuoteDecimals bounds the places of a quantity and a unit price,
	// which the PDF prints as given.
	MaxQuoteDecimals int32 = 6
	maxAgencyRunes         = 100 // agency, address, contact
	maxItemRunes           = 200 // an item's name and spec
	maxUnitRunes           = 20
	maxRemarksRunes        = 1000
	// maxRemarksLines bounds the lines of a text that may break lines (the
	// remarks): 1,000 line breaks would print pages of nothing.
	maxRemarksLines = 30
)

// QuoteTotals are a quote's amounts: net prices summed in full precision,
// rounded half-up to whole NTD once, tax computed once on that subtotal.
// Amounts above MaxQuoteTotal are for CreateQuote to refuse.
func QuoteTotals(items []domain.QuoteItem) (subtotal, tax, total int64) {
	return twrules.NetTotals(quoteNet(items))
}

// quoteNet is the exact sum of quantity × net unit price.
func quoteNet(items []domain.QuoteItem) decimal.Decimal {
	net := decimal.Zero
	for _, it := range items {
		net = net.Add(it.Quantity.Mul(it.UnitPrice))
	}
	return net
}

func tooLarge() error {
	return fmt.Errorf("%w: a quote totals at most %s (NT$%s) with tax", ErrInvalid,
		twrules.UpperNTDPhrase(MaxQuoteTotal), decimal.NewFromInt(MaxQuoteTotal).String())
}

// textProblem names what keeps s from a quote's field: more than max
// characters, a control character (a line break only where lines is
// set), which the PDF would carry as it is, or more than maxRemarksLines
// lines.
func textProblem(field, s string, max int, lines bool) string {
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("%s is at most %d characters (%d given)", field, max, n)
	}
	if n := strings.Count(s, "\n") + 1; lines && n > maxRemarksLines {
		return fmt.Sprintf("%s has at most %d lines (%d given)", field, maxRemarksLines, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(lines && (r == '\n' || r == '\r' || r == '\t')) {
			return fmt.Sprintf("%s holds the control character %U", field, r)
		}
	}
	return ""
}

// lineBreaks writes CRLF and a lone CR as LF.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

func (q QuoteRequest) validate() error {
	var errs []string
	if strings.TrimSpace(q.Agency) == "" {
		errs = append(errs, "agency is required")
	}
	for _, f := range []struct {
		name, text string
		max        int
		lines      bool
	}{
		{"agency", q.Agency, maxAgencyRunes, false}, {"agency_address", q.AgencyAddr, maxAgencyRunes, false},
		{"contact", q.Contact, maxAgencyRunes, false}, {"remarks", q.Remarks, maxRemarksRunes, true},
	} {
		if p := textProblem(f.name, f.text, f.max, f.lines); p != "" {
			errs = append(errs, p)
		}
	}
	if len(q.Items) > MaxQuoteItems {
		errs = append(errs, fmt.Sprintf("a quote has at most %d items (%d given)", MaxQuoteItems, len(q.Items)))
	}
	if p := domain.TaxIDProblem(q.AgencyTaxID); q.AgencyTaxID != "" && p != "" {
		errs = append(errs, fmt.Sprintf("agency 統一編號 %s %s", domain.Quote(q.AgencyTaxID), p))
	}
	if len(q.Items) == 0 {
		errs = append(errs, "at least one item is required")
	}
	for i, it := range q.Items {
		if strings.TrimSpace(it.Name) == "" || !it.Quantity.IsPositive() || it.UnitPrice.IsNegative() {
			errs = append(errs, fmt.Sprintf("item %d needs a name, a positive quantity and a price ≥ 0", i+1))
		}
		for _, n := range []struct {
			field string
			v     decimal.Decimal
		}{{"quantity", it.Quantity}, {"unit price", it.UnitPrice}} {
			if !n.v.Equal(n.v.Round(MaxQuoteDecimals)) {
				errs = append(errs, fmt.Sprintf("item %d: %s %s has more than %d decimal places", i+1, n.field, domain.Excerpt(n.v.String()), MaxQuoteDecimals))
			}
		}
		for _, p := range []string{textProblem("name", it.Name, maxItemRunes, false),
			textProblem("spec", it.Spec, maxItemRunes, false), textProblem("unit", it.Unit, maxUnitRunes, false)} {
			if p != "" {
				errs = append(errs, fmt.Sprintf("item %d: %s", i+1, p))
			}
		}
	}
	if q.ValidDays < 0 || q.ValidDays > 365 {
		errs = append(errs, "valid_days must be 1 to 365")
	}
	if q.Plan != "" && !q.Plan.Valid() {
		errs = append(errs, fmt.Sprintf("unknown plan %s", domain.Quote(string(q.Plan))))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return nil
}

// printableQuote refuses a quote holding characters the documents' font
// lacks, naming each field and its characters, as a reason is refused
// (printableReason): the builder fixes the text, no font is to configure.
func (s *Service) printableQuote(q QuoteRequest) error {
	fields := [][2]string{{"agency", q.Agency}, {"agency_address", q.AgencyAddr}, {"contact", q.Contact}, {"remarks", q.Remarks}}
	for i, it := range q.Items {
		item := fmt.Sprintf("item %d: ", i+1)
		fields = append(fields, [2]string{item + "name", it.Name}, [2]string{item + "spec", it.Spec}, [2]string{item + "unit", it.Unit})
	}
	var errs []string
	for _, f := range fields {
		chars, err := unprintableChars(s.renderer, f[1])
		if err != nil {
			return err
		}
		if chars != "" {
			errs = append(errs, fmt.Sprintf("%s contains %s, which the documents cannot print", f[0], chars))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
}

// endOfTaipeiDay is the first instant after t's Taipei day. A quote's PDF
// says it is valid through a day (「至…止」), so it expires when that day
// ends, not at the hour of issue.
func endOfTaipeiDay(t time.Time) time.Time {
	tt := t.In(twrules.Taipei)
	return time.Date(tt.Year(), tt.Month(), tt.Day()+1, 0, 0, 0, 0, twrules.Taipei)
}

// idAlphabet spells quote and contract IDs: no 0, 1, I or O to misread.
const idAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// keyedID is newID with its 6 characters drawn from key rather than at
// random: one key gives one ID (on one Taipei day).
func keyedID(prefix string, at time.Time, key string) string {
	sum := sha256.Sum256([]byte(key))
	b := make([]byte, 6)
	for i := range b {
		b[i] = idAlphabet[int(sum[i])%len(idAlphabet)]
	}
	return prefix + at.In(twrules.Taipei).Format("20060102") + "-" + string(b)
}

// newID is a prefix, the Taipei date and 6 random base-32 characters.
func newID(prefix string, at time.Time) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + at.In(twrules.Taipei).Format("20060102") + "-" + string(b)
}

// CreateQuote issues a quotation: a QuoteIssued event whose PDF is
// QuotePDF's.
func (s *Service) CreateQuote(ctx context.Context, req QuoteRequest) (Quote, error) {
	// A browser sends a textarea's line breaks as CRLF and pasted text
	// may break lines with a lone CR: each is one line break, recorded as
	// LF, so that the bound on lines counts it.
	req.Remarks = lineBreaks.Replace(req.Remarks)
	if err := req.validate(); err != nil {
		return Quote{}, err
	}
	if req.ValidDays == 0 {
		req.ValidDays = 30
	}
	if err := s.printableQuote(req); err != nil {
		return Quote{}, err
	}
	reason, err := s.replaceReason(req)
	if err != nil {
		return Quote{}, err
	}
	// The ceiling is checked on the exact amount first: a product past
	// int64 must be refused, not wrapped around to another number.
	if net := quoteNet(req.Items); net.GreaterThan(decimal.NewFromInt(MaxQuoteTotal)) {
		return Quote{}, tooLarge()
	}
	at := s.issueTime()
	sub, tax, total := QuoteTotals(req.Items)
	if total <= 0 {
		return Quote{}, fmt.Errorf("%w: the quote totals NT$%d", ErrInvalid, total)
	}
	if total > MaxQuoteTotal {
		return Quote{}, tooLarge()
	}
	id := newID("Q-", at)
	if req.Key == "" && req.Replaces != "" {
		// A quote has one replacement: named after it, a replacement sent
		// again after a failure issues the same quote.
		id = keyedID("Q-", at, "replaces\x00"+req.Replaces)
	}
	if req.Key != "" {
		id = keyedID("Q-", at, req.Key)
		// A retry just past Taipei midnight is answered with the quote its
		// first sending issued the day before.
		prev := keyedID("Q-", at.Add(-24*time.Hour), req.Key)
		if err := s.catchUpStream(ctx, domain.QuoteStream(prev), -1); err != nil {
			return Quote{}, err
		}
		if p, err := s.Quote(prev); err == nil && at.Sub(p.IssuedAt) < 24*time.Hour {
			id = prev
		}
	}
	q := domain.QuoteIssued{
		QuoteID: id, Agency: strings.TrimSpace(req.Agency), AgencyTaxID: req.AgencyTaxID,
		AgencyAddr: req.AgencyAddr, Contact: req.Contact, Items: req.Items, ValidDays: req.ValidDays,
		Remarks: req.Remarks, Subtotal: sub, Tax: tax, Total: total, IssuedAt: at, ContractPlan: string(req.Plan),
		Seller: s.seller.documentSnapshot(), Replaces: req.Replaces, ReplaceReason: reason,
	}
	// Render before recording: a quote the PDF refuses (say, a character the
	// font lacks) is not issued.
	if err := s.renderer.RenderQuote(io.Discard, q, pdf.Recorded(q.Seller, s.seller.PDF())); err != nil {
		return Quote{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if req.Replaces != "" {
		done, err := s.replaceQuote(ctx, &q, req.Key != "")
		if err != nil {
			return Quote{}, err
		}
		if done != nil {
			return *done, nil
		}
	}
	d, err := encode(ctx, domain.EventID(domain.TypeQuoteIssued, q.QuoteID), at, &q)
	if err != nil {
		return Quote{}, err
	}
	stream := domain.QuoteStream(q.QuoteID)
	if _, err := s.store.Append(ctx, stream, eventstore.NoStream(), d); err != nil {
		var wv *eventstore.WrongVersionError
		if (req.Key == "" && req.Replaces == "") || !errors.As(err, &wv) {
			return Quote{}, err
		}
		// Issued already under this key: answered with that quote.
	}
	if err := s.catchUpStream(ctx, stream, -1); err != nil {
		return Quote{}, err
	}
	got, err := s.Quote(q.QuoteID)
	if err == nil && !sameQuote(got.QuoteIssued, q) {
		return Quote{}, fmt.Errorf("%w: this key already issued quote %s, for another request", ErrConflict, got.QuoteID)
	}
	return got, err
}

// replaceReason checks the reason of a replacement as a withdrawal's is
// checked; a quote that replaces none takes no reason.
func (s *Service) replaceReason(req QuoteRequest) (string, error) {
	if strings.TrimSpace(req.Reason) == "" {
		return "", nil
	}
	if req.Replaces == "" {
		return "", fmt.Errorf("%w: reason is why a quote replaces another: give it with replaces, or withdraw the quote with its reason", ErrInvalid)
	}
	return s.withdrawReason(req.Reason)
}

// sameQuote reports whether a and b quote the same: the same agency,
// items, validity, remarks and plan (amounts compared as numbers).
func sameQuote(a, b domain.QuoteIssued) bool {
	if a.Agency != b.Agency || a.AgencyTaxID != b.AgencyTaxID || a.AgencyAddr != b.AgencyAddr || a.Contact != b.Contact ||
		a.ValidDays != b.ValidDays || a.Remarks != b.Remarks || a.ContractPlan != b.ContractPlan || a.Replaces != b.Replaces ||
		a.ReplaceReason != b.ReplaceReason ||
		len(a.Items) != len(b.Items) {
		return false
	}
	for i, x := range a.Items {
		y := b.Items[i]
		if x.Name != y.Name || x.Spec != y.Spec || x.Unit != y.Unit || !x.Quantity.Equal(y.Quantity) || !x.UnitPrice.Equal(y.UnitPrice) {
			return false
		}
	}
	return true
}

// Quote returns a quote with its acceptance and contract.
func (s *Service) Quote(id string) (Quote, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.l.quotes[id]
	if q == nil {
		return Quote{}, fmt.Errorf("%w: quote %s", ErrNotFound, domain.Excerpt(id))
	}
	return s.withStatus(*q), nil
}

// Contract returns the quote a contract was made from.
func (s *Service) Contract(id string) (Quote, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.l.contract[id]
	if q == nil {
		return Quote{}, fmt.Errorf("%w: contract %s", ErrNotFound, domain.Excerpt(id))
	}
	return s.withStatus(*q), nil
}

// Contract terms: a service contract runs 1 to MaxContractMonths months
// (DefaultContractMonths when not given), from a start no earlier than the
// first day of the Taipei month it is signed in and at most a year after
// the day of signing.
const (
	DefaultContractMonths = 12
	MaxContractMonths     = 120
)

// AcceptQuote records the agency's acceptance of a valid quote and issues
// the contract (QuoteAccepted and ContractIssued, appended together). The
// service runs from start (zero: the next Taipei month) for months months
// (zero: DefaultContractMonths). Accepting an accepted quote returns its
// contract when the terms given match it (a zero term matches any), and is
// a conflict otherwise.
func (s *Service) AcceptQuote(ctx context.Context, id string, start time.Time, months int) (Quote, error) {
	if months < 0 || months > MaxContractMonths {
		return Quote{}, fmt.Errorf("%w: months must be 1 to %d (%d given)", ErrInvalid, MaxContractMonths, months)
	}
	if err := s.Sync(ctx); err != nil {
		return Quote{}, err
	}
	q, err := s.Quote(id)
	if err != nil {
		return Quote{}, err
	}
	if q.Contract != nil {
		if err := sameTerms(q, start, months); err != nil {
			return Quote{}, err
		}
		return q, nil
	}
	if q.Withdrawal != nil {
		return Quote{}, withdrawnError(q)
	}
	at := s.issueTime()
	if lastDay := q.IssuedAt.AddDate(0, 0, q.ValidDays); !at.Before(endOfTaipeiDay(lastDay)) {
		return Quote{}, fmt.Errorf("%w: quote %s expired on %s", ErrConflict, id, twrules.ROCDateLabel(lastDay))
	}
	c, err := contractTerms(q, at, start, months)
	if err != nil {
		return Quote{}, err
	}
	c.Seller = s.seller.documentSnapshot()
	acc, err := encode(ctx, domain.EventID(domain.TypeQuoteAccepted, id), at, &domain.QuoteAccepted{QuoteID: id})
	if err != nil {
		return Quote{}, err
	}
	con, err := encode(ctx, domain.EventID(domain.TypeContractIssued, id), at, &c)
	if err != nil {
		return Quote{}, err
	}
	stream := domain.QuoteStream(id)
	_, err = s.store.Append(ctx, stream, eventstore.Exact(uint64(q.version)), acc, con)
	if err != nil && !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return Quote{}, err
	}
	if err := s.catchUpStream(ctx, stream, q.version); err != nil {
		return Quote{}, err
	}
	// Another acceptance may have come first, on its own terms.
	if q, err = s.Quote(id); err != nil {
		return Quote{}, err
	}
	if q.Contract == nil && q.Withdrawal != nil {
		return Quote{}, withdrawnError(q)
	}
	if q.Contract == nil {
		return Quote{}, fmt.Errorf("%w: quote %s changed meanwhile; try again", ErrConflict, id)
	}
	if err := sameTerms(q, start, months); err != nil {
		return Quote{}, err
	}
	return q, nil
}

// contractTerms is the contract of quote q signed at at, its start and
// months checked and defaulted.
func contractTerms(q Quote, at, start time.Time, months int) (domain.ContractIssued, error) {
	l := at.In(twrules.Taipei)
	monthStart := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, twrules.Taipei)
	latest := time.Date(l.Year()+1, l.Month(), l.Day(), 0, 0, 0, 0, twrules.Taipei)
	switch {
	case start.IsZero():
		start = monthStart.AddDate(0, 1, 0)
	case start.Before(monthStart):
		return domain.ContractIssued{}, fmt.Errorf("%w: start %s is before %s: a contract starts no earlier than the first day of the month it is signed in",
			ErrInvalid, start.In(twrules.Taipei).Format(time.DateOnly), monthStart.Format(time.DateOnly))
	case start.After(latest):
		return domain.ContractIssued{}, fmt.Errorf("%w: start %s is more than a year after the day of signing (%s)",
			ErrInvalid, start.In(twrules.Taipei).Format(time.DateOnly), l.Format(time.DateOnly))
	}
	if months == 0 {
		months = DefaultContractMonths
	}
	plan := domain.Plan(q.ContractPlan)
	if !plan.Valid() {
		plan = domain.PlanBusiness
	}
	return domain.ContractIssued{
		ContractID: "C-" + strings.TrimPrefix(q.QuoteID, "Q-"), QuoteID: q.QuoteID,
		PeriodStart: start.UTC(), PeriodEnd: monthsAfter(start, months).UTC(), Plan: plan,
	}, nil
}

// monthsAfter is when a period of n months from t ends (exclusive), as
// the civil code counts months (民法 §121): at t's day of the month n
// months later, or, when that month has no such day, at the start of the
// month after it, so that the period's last day is that month's last.
// time.AddDate would run February 31 on into March (January 31 + 1 month
// is March 3).
func monthsAfter(t time.Time, n int) time.Time {
	l := t.In(twrules.Taipei)
	first := time.Date(l.Year(), l.Month()+time.Month(n), 1, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), twrules.Taipei)
	if last := first.AddDate(0, 1, -1).Day(); l.Day() > last {
		return first.AddDate(0, 1, 0)
	}
	return first.AddDate(0, 0, l.Day()-1)
}

// sameTerms is nil when the contract of q has the start and months asked
// for (a zero term matches any), and a conflict naming it otherwise.
func sameTerms(q Quote, start time.Time, months int) error {
	c := q.Contract
	from := c.PeriodStart.In(twrules.Taipei)
	if (start.IsZero() || start.Equal(c.PeriodStart)) && (months == 0 || monthsAfter(from, months).Equal(c.PeriodEnd)) {
		return nil
	}
	return fmt.Errorf("%w: quote %s is already accepted as contract %s, from %s to %s; its terms cannot change",
		ErrConflict, q.QuoteID, c.ContractID, from.Format(time.DateOnly), c.PeriodEnd.In(twrules.Taipei).AddDate(0, 0, -1).Format(time.DateOnly))
}

// QuotePDF writes a quote's 報價單.
func (s *Service) QuotePDF(w io.Writer, id string) error {
	q, err := s.Quote(id)
	if err != nil {
		return err
	}
	var opts pdf.QuoteOptions
	if wd := q.Withdrawal; wd != nil {
		opts.Withdrawn = &pdf.QuoteWithdrawal{At: q.WithdrawnAt, Reason: wd.Reason, ReplacedBy: wd.ReplacedBy}
	}
	return s.renderer.RenderQuoteWith(w, q.QuoteIssued, pdf.Recorded(q.Seller, s.seller.PDF()), opts)
}

// ContractPDF writes a contract's 契約書, dated when it was issued.
func (s *Service) ContractPDF(w io.Writer, contractID string) error {
	q, err := s.Contract(contractID)
	if err != nil {
		return err
	}
	seller := q.Contract.Seller
	if seller == nil {
		seller = q.Seller // a contract recorded before it held its seller
	}
	return s.renderer.RenderContract(w, *q.Contract, q.QuoteIssued, pdf.Recorded(seller, s.seller.PDF()), pdf.ContractOptions{IssuedAt: q.ContractAt})
}

// Quotes lists every quote, with its acceptance and contract, by issue
// time.
func (s *Service) Quotes() []Quote {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Quote, 0, len(s.l.quotes))
	for _, q := range s.l.quotes {
		out = append(out, s.withStatus(*q))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].IssuedAt.Equal(out[j].IssuedAt) {
			return out[i].IssuedAt.Before(out[j].IssuedAt)
		}
		return out[i].QuoteID < out[j].QuoteID
	})
	return out
}
