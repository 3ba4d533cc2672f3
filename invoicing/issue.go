package invoicing

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// ParseMonth checks a billing month (YYYY-MM).
func ParseMonth(month string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01", month, twrules.Taipei)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: month %s: want YYYY-MM", ErrInvalid, domain.Quote(month))
	}
	return t, nil
}

// issueTime is the instant of issue, whole seconds (as printed and filed).
func (s *Service) issueTime() time.Time { return s.now().UTC().Truncate(time.Second) }

// buyer fills the buyer of an invoice: B2B with the account's valid
// 統一編號, else B2C.
func buyer(inv *domain.InvoiceIssued, a *account) {
	if taxID := a.TaxID(); a != nil && domain.ValidTaxID(taxID) {
		inv.Kind, inv.BuyerTaxID, inv.BuyerName = pdf.KindB2B, taxID, a.Organisation
		if inv.BuyerName == "" {
			inv.BuyerName = taxID
		}
		return
	}
	inv.Kind = pdf.KindB2C
}

var onePointO5 = decimal.NewFromInt(1).Add(twrules.TaxRate)

// lineAmount is what a line shows: the tax-inclusive cost for B2C, the net
// cost for B2B (whose proof states net prices), to the cent. Lines inform;
// the totals come from the full-precision sum.
func lineAmount(kind string, cost decimal.Decimal) decimal.Decimal {
	if kind == pdf.KindB2B {
		cost = cost.Div(onePointO5)
	}
	return cost.Round(2)
}

// Skip is an account the close did not invoice, and why.
type Skip struct {
	AccountID string
	Month     string
	Reason    string
}

// monthlyDraft builds the next invoice of an account's month: the usage no
// live invoice bills yet, by model. Its total brings the month's live
// totals to the whole-NTD rounding of all it bills (half-up, once, on the
// cumulative amount), so rounding never adds up across supplements. ok is
// false when nothing is left to bill; skip says why a remainder makes no
// invoice (under NT$1). s.mu is held.
func (s *Service) monthlyDraft(acct, month string, at time.Time) (d draft, skip *Skip, ok bool) {
	k := acctMonth{acct, month}
	b := s.l.months[k]
	billed := map[string]domain.UsageBilled{}
	for _, inv := range b.live() {
		for _, u := range inv.Usage {
			c := billed[u.Model]
			c.Requests, c.TokensIn, c.TokensOut = c.Requests+u.Requests, c.TokensIn+u.TokensIn, c.TokensOut+u.TokensOut
			c.Cost = c.Cost.Add(u.Cost)
			billed[u.Model] = c
		}
	}
	var rest []domain.UsageBilled
	covers := decimal.Zero
	for _, u := range s.l.usage[k] {
		c := billed[u.Model]
		r := domain.UsageBilled{Model: u.Model, Requests: u.Requests - c.Requests, TokensIn: u.TokensIn - c.TokensIn,
			TokensOut: u.TokensOut - c.TokensOut, Cost: u.Cost.Decimal().Sub(c.Cost)}
		if r.Requests != 0 || !r.Cost.IsZero() {
			rest = append(rest, r)
			covers = covers.Add(r.Cost)
		}
	}
	if len(rest) == 0 {
		return draft{}, nil, false
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Model < rest[j].Model })
	seq, billedCovers, billedTotal, less := 0, decimal.Zero, int64(0), int64(0)
	if b != nil {
		seq, billedCovers, billedTotal, less = b.next, b.covers, b.totals+b.carried, max(b.less, 0)
	}
	inv := domain.InvoiceIssued{AccountID: acct, Month: month, IssuedAt: at, RandomCode: s.randomCode(), Seq: seq,
		Covers: covers, Usage: rest, Less: less}
	buyer(&inv, s.l.accounts[acct])
	// What voids took off the re-issue (InvoiceVoided.Less) and no live
	// invoice carries, this one does; what live ones carry counts as
	// billed, so that a later supplement does not bill it again.
	inv.Total = twrules.RoundNTD(billedCovers.Add(covers)) - billedTotal - less
	if covers.IsNegative() {
		// Another process's invoice, read before the usage it bills.
		return draft{}, &Skip{AccountID: acct, Month: month, Reason: fmt.Sprintf("the invoices of %s bill NT$%s of usage this process has not read yet: nothing is left to invoice",
			month, covers.Neg().StringFixed(2))}, true
	}
	if inv.Total <= 0 {
		return draft{}, &Skip{AccountID: acct, Month: month, Reason: fmt.Sprintf("usage of %s not yet invoiced costs NT$%s, NT$%d after rounding: no zero or negative invoice",
			month, covers.StringFixed(2), inv.Total)}, true
	}
	inv.Sales, inv.Tax = twrules.SplitInclusive(inv.Total)
	for _, v := range b.unbilledVoids() {
		inv.Replaces = append(inv.Replaces, v.Number)
	}
	note := ""
	switch {
	case len(inv.Replaces) > 0:
		note = " 重開" // re-issued after a void
	case seq > 0:
		note = " 補開" // late usage
	}
	for _, u := range rest {
		amt := lineAmount(inv.Kind, u.Cost)
		inv.Lines = append(inv.Lines, domain.InvoiceLine{
			Description: usageDescription(u.Model, month+note, u.TokensIn, u.TokensOut),
			Quantity:    decimal.NewFromInt(1), Unit: "式", UnitPrice: amt, Amount: amt,
		})
	}
	return draft{id: monthlyEventID(acct, month, seq), inv: inv}, nil, true
}

// usageDescription is a usage line's description: the model, the month
// (with its note) and the tokens. A model ID too long for MIG's
// Description (a catalog's models are the operator's to name) is cut,
// with "…", so that the invoice files at export as it was issued.
func usageDescription(model, month string, in, out int64) string {
	rest := fmt.Sprintf(" 用量 %s（輸入 %d／輸出 %d tokens）", month, in, out)
	m := []rune(strings.ReplaceAll(model, ":", "-"))
	if room := mig.MaxDescription - utf8.RuneCountInString(rest); len(m) > room {
		m = append(m[:room-1], '…')
	}
	return string(m) + rest
}

// latest is the last live invoice of a bill, if any.
func latest(b *bill) *invoice {
	live := b.live()
	if len(live) == 0 {
		return nil
	}
	return live[len(live)-1]
}

// IssueMonthly issues an account's invoice for a billing month now (also
// before the month ends: immediate issuance). When the month already has
// invoices, it bills only the usage they do not (a supplementary invoice
// naming the month); with nothing left, it returns the latest invoice and
// created false.
func (s *Service) IssueMonthly(ctx context.Context, acct, month string) (inv Invoice, created bool, err error) {
	if _, err := ParseMonth(month); err != nil {
		return Invoice{}, false, err
	}
	if err := s.SyncLatest(ctx); err != nil {
		return Invoice{}, false, err
	}
	at := s.issueTime()
	s.mu.Lock()
	if s.l.accounts[acct] == nil {
		s.mu.Unlock()
		return Invoice{}, false, fmt.Errorf("%w: account %s", ErrNotFound, domain.Excerpt(acct))
	}
	d, skip, ok := s.monthlyDraft(acct, month, at)
	if last := latest(s.l.months[acctMonth{acct, month}]); last != nil && (!ok || skip != nil) {
		c := last.clone()
		s.mu.Unlock()
		c, err := s.document(ctx, c)
		return c, false, err
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return Invoice{}, false, fmt.Errorf("%w: account %s has no postpaid usage in %s to invoice", ErrInvalid, acct, month)
	case skip != nil:
		return Invoice{}, false, fmt.Errorf("%w: %s", ErrInvalid, skip.Reason)
	}
	return s.allocateOne(ctx, d)
}

// IssueTopUp issues the invoice of a paid top-up (credit card or bank
// transfer) of a prepaid account, with the account's other top-ups not yet
// invoiced. created is false when an invoice already bills it.
//
// A concurrent issuer (another request, another process) may take the
// invoice's sequence number with a draft that did not see this top-up, and
// a voided invoice's re-issue, which bills only what it billed, comes
// before a later top-up's invoice: the answer is then that invoice, which
// does not bill it, and the top-up is decided again.
func (s *Service) IssueTopUp(ctx context.Context, acct, ref string) (Invoice, bool, error) {
	for range decideAttempts {
		inv, created, err := s.issueTopUpOnce(ctx, acct, ref)
		if err != nil || inv.bills(ref) {
			return inv, created, err
		}
	}
	return Invoice{}, false, fmt.Errorf("%w: the invoices of account %s kept changing while top-up %s was invoiced; try again", ErrConflict, acct, ref)
}

// decideAttempts bounds how often a decision lost to a concurrent one (an
// invoice's void or allowance, a top-up's invoice) is made again.
const decideAttempts = 20

// bills reports whether a top-up invoice bills the top-up ref.
func (inv *Invoice) bills(ref string) bool {
	return inv.TopUpRef == ref || slices.Contains(inv.TopUps, ref)
}

func (s *Service) issueTopUpOnce(ctx context.Context, acct, ref string) (Invoice, bool, error) {
	if err := s.Sync(ctx); err != nil {
		return Invoice{}, false, err
	}
	s.mu.Lock()
	t := s.l.findTopUp(acct, ref)
	if t == nil {
		s.mu.Unlock()
		return Invoice{}, false, fmt.Errorf("%w: no paid top-up %s of a prepaid account %s", ErrNotFound, domain.Quote(ref), domain.Excerpt(acct))
	}
	if t.cover != nil {
		c := t.cover.clone()
		s.mu.Unlock()
		c, err := s.document(ctx, c)
		return c, false, err
	}
	d, _, ok := s.topUpDraft(acct, s.issueTime())
	s.mu.Unlock()
	if !ok {
		return Invoice{}, false, fmt.Errorf("%w: top-up %s and the account's other top-ups not invoiced yet add up to less than NT$1: carried to its next top-up", ErrInvalid, ref)
	}
	return s.allocateOne(ctx, d)
}

// topUpDraft builds the next invoice of an account's top-ups that no live
// invoice bills yet (topUpsDue). Its total brings the account's live top-up
// totals to the whole NTD paid (rounded down): a fraction of NT$1 is
// carried to the next top-up, never rounded up into money not received.
// ok is false when nothing reaches NT$1; more, that top-ups are left for
// another invoice after this one. s.mu is held.
func (s *Service) topUpDraft(acct string, at time.Time) (d draft, more, ok bool) {
	due := s.topUpsDue(acct)
	if due.total <= 0 {
		return draft{}, false, false
	}
	inv := domain.InvoiceIssued{AccountID: acct, TopUpRef: due.refs[len(due.refs)-1], PaidMonth: due.paid, IssuedAt: at, RandomCode: s.randomCode(),
		Seq: due.seq, Covers: due.covers, TopUps: due.refs, Total: due.total, Replaces: due.replaces}
	buyer(&inv, s.l.accounts[acct])
	inv.Sales, inv.Tax = twrules.SplitInclusive(inv.Total)
	amt := lineAmount(inv.Kind, decimal.NewFromInt(inv.Total))
	inv.Lines = []domain.InvoiceLine{{Description: "API 預付儲值", Quantity: decimal.NewFromInt(1), Unit: "筆", UnitPrice: amt, Amount: amt}}
	return draft{id: topUpEventID(acct, due.seq), inv: inv}, due.more, true
}

// dueTopUps is what an account's next top-up invoice bills.
type dueTopUps struct {
	refs     []string        // the top-ups, in order of payment
	covers   decimal.Decimal // their sum
	seq      int             // the invoice's Seq
	total    int64           // the whole NTD they bring the live top-up invoices to, rounded down
	paid     string          // the Taipei month the last of them was paid in
	replaces []string        // the voided invoices whose top-ups it bills again
	more     bool            // top-ups that no live invoice bills are left beside them
}

// topUpsDue returns what an account's next top-up invoice bills: what
// invoicing each payment as it came would have billed, so that an invoice
// counts in the month of its payment however late it is issued.
//   - A re-issue bills what its voided invoice billed and nothing more, and
//     charges what it charged: the first void not billed again is
//     re-issued, within the whole NTD that all the voids' top-ups bring the
//     live invoices to. Re-issuing voids for what the live invoices leave
//     of each (the cumulative rule below) could charge one of them NT$1 of
//     another's, leaving that one under NT$1 to be billed with later
//     payments, in their month.
//   - Else the top-ups that no live invoice bills, in order of payment, up
//     to the first that brings the invoice to NT$1: one payment, with the
//     fractions carried to it.
//
// s.mu is held.
func (s *Service) topUpsDue(acct string) dueTopUps {
	tops, b := s.l.topUpsOf(acct), s.l.topUpBills[acct]
	if voids := b.unbilledVoids(); len(voids) > 0 {
		all := dueOf(tops, b, false, func(t *topUp) bool { return awaitsReissue(b, t.Reference) })
		for _, v := range voids {
			due := dueOf(tops, b, false, func(t *topUp) bool { return sharesTopUp(v, nil, t.Reference) })
			if due.total = min(v.Total, all.total); due.total > 0 && len(due.refs) > 0 {
				due.replaces = []string{v.Number}
				return due
			}
		}
	}
	due := dueOf(tops, b, true, func(*topUp) bool { return true })
	for _, v := range b.unbilledVoids() {
		if len(due.refs) > 0 && sharesTopUp(v, due.refs, "") {
			due.replaces = append(due.replaces, v.Number)
		}
	}
	return due
}

// dueOf sums the top-ups that no live invoice bills and that bills selects
// into an invoice following the live ones of the bill b; once stops, at
// the first top-up that brings its total to NT$1.
func dueOf(tops *topUpList, b *bill, once bool, bills func(*topUp) bool) dueTopUps {
	due := dueTopUps{covers: decimal.Zero}
	billedCovers, billedTotal := decimal.Zero, int64(0)
	if b != nil {
		due.seq, billedCovers, billedTotal = b.next, b.covers, b.totals
	}
	for t := range tops.all() {
		switch {
		case t.cover != nil:
		case !bills(t) || (once && due.total > 0):
			due.more = true
		default:
			due.refs = append(due.refs, t.Reference)
			due.covers = due.covers.Add(t.Amount.Decimal())
			due.paid = t.Month()
			due.total = billedCovers.Add(due.covers).Floor().IntPart() - billedTotal
		}
	}
	return due
}

// randomCode draws the 隨機碼 (B2B and B2C alike: the proof's barcodes need
// one). crypto/rand does not fail on supported platforms. s.mu is held.
func (s *Service) randomCode() string {
	c, err := twrules.RandomCodeFrom(s.random)
	if err != nil {
		panic(err)
	}
	return c
}
