package invoicing

import (
	"context"
	"fmt"
	"github.com/routefree/routefree/domain"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/invoicing/twrules"
)

// Bases of a reconciliation row: what the invoices bill.
const (
	BasisUsage  = "usage"   // postpaid usage, billed by monthly invoices
	BasisTopUps = "top-ups" // prepaid top-ups, billed as they are paid
)

// Why an amount is still pending (not yet on a live invoice).
const (
	ReasonMonthOpen     = "month not ended (Taipei)"
	ReasonAwaitingClose = "awaiting the monthly close"
	ReasonLateUsage     = "late usage: on a supplementary invoice at the next close"
	ReasonVoided        = "invoice voided: re-issue it now (routefree invoices issue for the account and month), else the next monthly close bills it"
	ReasonVoidedTopUp   = "top-up invoice voided: re-issued by routefree invoices topups (serve does it at once)"
	ReasonUnderOneNTD   = "under NT$1 after rounding: billed once the month's usage adds up"
	ReasonFraction      = "fraction of NT$1: carried to the account's next top-up"
	ReasonNoRange       = "awaiting a number range for the period of issue"
	ReasonTopUpPending  = "top-up awaiting its invoice"
	ReasonOverInvoiced  = "invoiced more than used"
	ReasonRefused       = "cannot be invoiced: the account's name cannot be printed or filed (correct its details, then close again)"
)

// ReconcileRow reconciles one account's Taipei month: what was used (or
// paid), what live invoices bill of it, and why the rest is pending.
// Invoiced + Pending = Used, always; Pending is zero or has a Reason.
type ReconcileRow struct {
	AccountID string          `json:"account_id"`
	Month     string          `json:"month"`
	Basis     string          `json:"basis"`
	Used      decimal.Decimal `json:"used"`     // usage cost, or paid top-ups, full precision
	Invoiced  decimal.Decimal `json:"invoiced"` // of it, what live invoices bill
	Pending   decimal.Decimal `json:"pending"`  // Used − Invoiced
	Reason    string          `json:"reason,omitempty"`
	// Next is the command that invoices the pending amount now, where
	// finance has one to run: the re-issue of a voided invoice.
	Next string `json:"next,omitempty"`
	// Whole-NTD figures of the month's live invoices (top-up invoices count
	// in the month of the top-up they name).
	InvoicedNTD int64    `json:"invoiced_ntd"`
	Allowances  int64    `json:"allowances_ntd"`
	Net         int64    `json:"net_ntd"`
	Invoices    []string `json:"invoices,omitempty"` // live invoice numbers
	Voided      []string `json:"voided,omitempty"`   // voided invoice numbers
}

// ReconcileTotals sums the rows; PendingByReason names every pending amount.
type ReconcileTotals struct {
	Used            decimal.Decimal            `json:"used"`
	Invoiced        decimal.Decimal            `json:"invoiced"`
	Pending         decimal.Decimal            `json:"pending"`
	InvoicedNTD     int64                      `json:"invoiced_ntd"`
	Allowances      int64                      `json:"allowances_ntd"`
	Net             int64                      `json:"net_ntd"`
	PendingByReason map[string]decimal.Decimal `json:"pending_by_reason"`
}

// Reconciliation is the report of a month (or of all months).
type Reconciliation struct {
	Month  string          `json:"month,omitempty"`
	Rows   []ReconcileRow  `json:"rows"`
	Totals ReconcileTotals `json:"totals"`
	// Refunds lists every account given back paid credit, whatever the
	// month: finance's allowances to issue.
	Refunds []Refund `json:"refunds,omitempty"`
	// Offsets lists every account whose credit given offsets invoiced
	// usage it still owes, whatever the month: allowances to issue.
	Offsets []CreditOffset `json:"credit_offsets,omitempty"`
}

// Refund is paid credit an account was given back (a negative adjustment
// beyond its free credit), against the allowances on its top-up invoices:
// they billed the money when it was paid, and an allowance (折讓) is what
// takes it off them. An account whose allowances on top-up invoices
// exceed what it was refunded (a refund allowed, then reversed) is listed
// too: its top-up invoices bill less than it paid and kept, until the
// allowances named in ToVoid are voided.
type Refund struct {
	AccountID string          `json:"account_id"`
	Refunded  decimal.Decimal `json:"refunded"`
	Allowed   int64           `json:"allowed_ntd"`        // allowances on its live top-up invoices
	ToAllow   int64           `json:"to_allow_ntd"`       // the whole NTD refunded less Allowed, at least 0
	Beyond    int64           `json:"allowed_beyond_ntd"` // Allowed less the whole NTD refunded, at least 0
	Invoices  []string        `json:"invoices,omitempty"` // its live top-up invoices, by period and number
	// ToVoid are the live allowances whose void takes off Beyond, leaving
	// the least to allow again (see allowancesToVoid).
	ToVoid []AllowanceToVoid `json:"to_void,omitempty"`
}

// AllowanceToVoid is a live allowance on a top-up invoice that allows
// beyond what the account was refunded.
type AllowanceToVoid struct {
	Number  string `json:"number"`  // the allowance's number
	Invoice string `json:"invoice"` // its invoice, by period and number
	Amount  int64  `json:"amount_ntd"`
	issued  time.Time
}

// Reconcile reports, per account and Taipei month (month "" for all), the
// usage or top-ups, what live invoices bill of them, and why any
// difference is pending. It reads the store first.
func (s *Service) Reconcile(ctx context.Context, month string) (Reconciliation, error) {
	if month != "" {
		if _, err := ParseMonth(month); err != nil {
			return Reconciliation{}, err
		}
	}
	// From the store's head, not from what this process has noticed: a
	// close folds the invoices other processes numbered as it numbers its
	// own (catchUpStream), and the usage they bill precedes them.
	if err := s.SyncLatest(ctx); err != nil {
		return Reconciliation{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reconcile(month), nil
}

type rowKey struct{ acct, month, basis string }

// reconcile builds the report from the ledger. s.mu is held.
func (s *Service) reconcile(month string) Reconciliation {
	now := s.now()
	current := monthOf(now)
	// Invoices issued now take numbers of the current period: without a
	// range, or with its numbers used up, what is due waits for one.
	st := s.l.ranges[twrules.PeriodOf(now).String()]
	haveRange := st != nil && st.assigned && st.count < st.rngs.Size()
	rows := map[rowKey]*ReconcileRow{}
	row := func(acct, m, basis string) *ReconcileRow {
		k := rowKey{acct, m, basis}
		r := rows[k]
		if r == nil {
			r = &ReconcileRow{AccountID: acct, Month: m, Basis: basis}
			rows[k] = r
		}
		return r
	}
	// Usage and what the month's invoices bill of it.
	for k, models := range s.l.usage {
		if month != "" && k.month != month {
			continue
		}
		r := row(k.acct, k.month, BasisUsage)
		for _, u := range models {
			r.Used = r.Used.Add(u.Cost.Decimal())
		}
		b := s.l.months[k]
		if b != nil {
			r.Invoiced = b.covers
		}
		voided := lastVoided(b)
		r.Pending = r.Used.Sub(r.Invoiced)
		switch {
		case r.Pending.IsZero():
		case r.Pending.IsNegative():
			r.Reason = ReasonOverInvoiced
		case k.month >= current:
			r.Reason = ReasonMonthOpen
		case twrules.RoundNTD(r.Used)-billedNTD(b) <= 0:
			r.Reason = ReasonUnderOneNTD
		case !haveRange:
			r.Reason = ReasonNoRange
		case s.refusesBuyer(k.acct):
			r.Reason = ReasonRefused
		case voided:
			r.Reason, r.Next = ReasonVoided, fmt.Sprintf("routefree invoices issue --account %s --month %s", k.acct, k.month)
		case len(b.live()) > 0:
			r.Reason = ReasonLateUsage
		default:
			r.Reason = ReasonAwaitingClose
		}
	}
	// Top-ups of prepaid accounts, each in its month of payment. Top-up
	// invoices bill whole NTD, so what they bill is spread over the
	// account's top-ups in order of payment, those that live invoices bill
	// first; the rest (a fraction carried, a voided invoice's payments) is
	// pending.
	for acct, tops := range s.l.topUpLists() {
		b := s.l.topUpBills[acct]
		var billed int64
		if b != nil {
			billed = b.totals
		}
		voided := lastVoided(b)
		reason := ReasonFraction
		if s.topUpsDue(acct).total > 0 {
			switch {
			case !haveRange:
				reason = ReasonNoRange
			case voided:
				reason = ReasonVoidedTopUp
			default:
				reason = ReasonTopUpPending
			}
		}
		// The top-ups that live invoices bill take their parts first: one
		// whose invoice was voided is pending in its own month, not a later
		// payment that a live invoice bills. What the invoices charged
		// beyond them (a legacy invoice rounded up) goes to the others.
		left, covered := decimal.NewFromInt(billed), decimal.Zero
		for t := range tops.all() {
			if t.cover != nil {
				covered = covered.Add(t.Amount.Decimal())
			}
		}
		beyond := decimal.Max(left.Sub(covered), decimal.Zero)
		for t := range tops.all() {
			amt, part := t.Amount.Decimal(), decimal.Zero
			if t.cover != nil {
				part = decimal.Min(amt, decimal.Max(left, decimal.Zero))
				left = left.Sub(part)
			} else {
				part = decimal.Min(amt, beyond)
				beyond = beyond.Sub(part)
			}
			if month != "" && t.Month() != month {
				continue
			}
			r := row(acct, t.Month(), BasisTopUps)
			r.Used, r.Invoiced = r.Used.Add(amt), r.Invoiced.Add(part)
			r.Pending = r.Used.Sub(r.Invoiced)
			if r.Pending.IsZero() {
				r.Reason, r.Next = "", ""
				continue
			}
			// A month's pending is the voided invoice's when a payment of it
			// was billed by a void waiting for its re-issue; a later payment
			// waits for an invoice of its own.
			own := reason
			if reason == ReasonVoidedTopUp && !awaitsReissue(b, t.Reference) {
				own = ReasonTopUpPending
			}
			if r.Reason != ReasonVoidedTopUp || own == ReasonVoidedTopUp {
				r.Reason, r.Next = own, ""
				if own == ReasonVoidedTopUp {
					r.Next = "routefree invoices topups"
				}
			}
		}
	}
	// The whole-NTD figures of the invoices.
	for _, inv := range s.l.invoices {
		basis, m := BasisUsage, inv.Month
		if inv.TopUpRef != "" {
			basis, m = BasisTopUps, s.countsIn(inv.AccountID, inv.Month, inv.TopUpRef, inv.IssuedAt)
		}
		if month != "" && m != month {
			continue
		}
		r := row(inv.AccountID, m, basis)
		if inv.Voided {
			r.Voided = append(r.Voided, inv.Number)
			continue
		}
		r.Invoices = append(r.Invoices, inv.Number)
		sales, tax := inv.allowed()
		r.InvoicedNTD += inv.Total
		r.Allowances += sales + tax
		r.Net += inv.Net()
	}
	rec := Reconciliation{Month: month, Totals: ReconcileTotals{PendingByReason: map[string]decimal.Decimal{}}}
	for acct, amt := range s.l.refunded {
		rec.Refunds = append(rec.Refunds, s.refund(acct, amt))
	}
	// Allowances on the top-up invoices of an account refunded nothing
	// (its refunds reversed) are all beyond.
	for acct, b := range s.l.topUpBills {
		if _, listed := s.l.refunded[acct]; !listed && allowsAny(b) {
			rec.Refunds = append(rec.Refunds, s.refund(acct, decimal.Zero))
		}
	}
	sort.Slice(rec.Refunds, func(i, j int) bool { return rec.Refunds[i].AccountID < rec.Refunds[j].AccountID })
	rec.Offsets = s.creditOffsets()
	for _, r := range rows {
		rec.Rows = append(rec.Rows, *r)
		t := &rec.Totals
		t.Used, t.Invoiced, t.Pending = t.Used.Add(r.Used), t.Invoiced.Add(r.Invoiced), t.Pending.Add(r.Pending)
		t.InvoicedNTD, t.Allowances, t.Net = t.InvoicedNTD+r.InvoicedNTD, t.Allowances+r.Allowances, t.Net+r.Net
		if r.Reason != "" {
			t.PendingByReason[r.Reason] = t.PendingByReason[r.Reason].Add(r.Pending)
		}
	}
	sort.Slice(rec.Rows, func(i, j int) bool {
		a, b := rec.Rows[i], rec.Rows[j]
		if a.Month != b.Month {
			return a.Month < b.Month
		}
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		return a.Basis < b.Basis
	})
	return rec
}

// refund reconciles the paid credit refunded to acct, amt, with the
// allowances on its live top-up invoices. Allowances are whole NTD: what
// they owe is the whole NTD refunded, as a top-up invoice bills the whole
// NTD paid. s.mu is held.
func (s *Service) refund(acct string, amt decimal.Decimal) Refund {
	r := Refund{AccountID: acct, Refunded: amt}
	var live []AllowanceToVoid
	if b := s.l.topUpBills[acct]; b != nil {
		for _, inv := range b.invoices {
			if inv.Voided {
				continue
			}
			ref := InvoiceRef(inv.Period, inv.Number)
			r.Invoices = append(r.Invoices, ref)
			for _, a := range inv.allowances() {
				if !a.Voided {
					r.Allowed += a.Sales + a.Tax
					live = append(live, AllowanceToVoid{Number: a.Number, Invoice: ref, Amount: a.Sales + a.Tax, issued: a.IssuedAt})
				}
			}
		}
	}
	slices.SortStableFunc(live, func(a, b AllowanceToVoid) int { return a.issued.Compare(b.issued) })
	whole := amt.Floor().IntPart()
	r.ToAllow = max(whole-r.Allowed, 0)
	r.Beyond = max(r.Allowed-whole, 0)
	r.ToVoid = allowancesToVoid(live, r.Beyond)
	return r
}

// allowsAny says whether a live invoice of b has a live allowance (few
// do: most accounts are passed over without a list).
func allowsAny(b *bill) bool {
	for _, inv := range b.invoices {
		if sales, tax := inv.allowed(); !inv.Voided && sales+tax > 0 {
			return true
		}
	}
	return false
}

// allowancesToVoid picks, of live allowances in order of issue, those to
// void so that they take off at least beyond and leave the least to allow
// again: each time the smallest allowance that covers what is left alone,
// else the largest, and of equal ones the latest (likelier the reversed
// refund's). An allowance cannot be voided in part.
func allowancesToVoid(live []AllowanceToVoid, beyond int64) []AllowanceToVoid {
	var out []AllowanceToVoid
	for beyond > 0 && len(live) > 0 {
		pick := -1
		for i, a := range live {
			switch {
			case pick < 0:
				pick = i
			case a.Amount >= beyond && (live[pick].Amount < beyond || a.Amount <= live[pick].Amount):
				pick = i
			case a.Amount < beyond && live[pick].Amount < beyond && a.Amount >= live[pick].Amount:
				pick = i
			}
		}
		out = append(out, live[pick])
		beyond -= live[pick].Amount
		live = slices.Delete(live, pick, pick+1)
	}
	return out
}

// WriteTotals prints the totals as plain text, the same for the same
// history and clock: what `replay` prints and an auditor compares. The
// amounts are exact (see exactPlaces), so invoiced + pending = used and
// the pending amounts by reason add up to pending, as printed.
func (r Reconciliation) WriteTotals(w io.Writer) error {
	t := r.Totals
	reasons := make([]string, 0, len(t.PendingByReason))
	figures := []decimal.Decimal{t.Used, t.Invoiced, t.Pending}
	for k, v := range t.PendingByReason {
		reasons = append(reasons, k)
		figures = append(figures, v)
	}
	sort.Strings(reasons)
	places := exactPlaces(figures...)
	var b strings.Builder
	fmt.Fprintf(&b, "RECONCILIATION (usage and top-ups against live invoices; NTD, exact)\n")
	fmt.Fprintf(&b, "%-12s %24s\n", "used", t.Used.StringFixed(places))
	fmt.Fprintf(&b, "%-12s %24s\n", "invoiced", t.Invoiced.StringFixed(places))
	fmt.Fprintf(&b, "%-12s %24s\n", "pending", t.Pending.StringFixed(places))
	for _, k := range reasons {
		fmt.Fprintf(&b, "  %-10s %24s  %s\n", "pending", t.PendingByReason[k].StringFixed(places), k)
	}
	fmt.Fprintf(&b, "%-12s %24d\n", "invoiced NTD", t.InvoicedNTD)
	fmt.Fprintf(&b, "%-12s %24d\n", "allowances", t.Allowances)
	fmt.Fprintf(&b, "%-12s %24d\n", "net NTD", t.Net)
	for _, rf := range r.Refunds {
		if rf.ToAllow > 0 {
			on := strings.Join(rf.Invoices, ", ")
			if on == "" {
				on = "no live top-up invoice"
			}
			fmt.Fprintf(&b, "%-12s %24d  %s: NT$%s of paid credit refunded, NT$%d allowed on %s\n", "to allow", rf.ToAllow,
				rf.AccountID, rf.Refunded.String(), rf.Allowed, on)
		}
	}
	for _, rf := range r.Refunds {
		if rf.Beyond > 0 {
			voids := make([]string, len(rf.ToVoid))
			for i, a := range rf.ToVoid {
				voids[i] = fmt.Sprintf("%s (NT$%d on %s)", a.Number, a.Amount, a.Invoice)
			}
			fmt.Fprintf(&b, "%-12s %24d  %s: NT$%d allowed beyond refunds (NT$%s of paid credit refunded, NT$%d allowed): void allowance %s\n", "to void", rf.Beyond,
				rf.AccountID, rf.Beyond, rf.Refunded.String(), rf.Allowed, strings.Join(voids, ", "))
			for _, a := range rf.ToVoid {
				fmt.Fprintf(&b, "%-12s %24s  run: routefree invoices allowance-void --number %s --reason …\n", "", "", a.Number)
			}
		}
	}
	for _, o := range r.Offsets {
		fmt.Fprintf(&b, "%-12s %24d  %s\n", "to allow", o.ToAllow, o.Advice())
		if o.Next != "" {
			fmt.Fprintf(&b, "%-12s %24s  run: %s\n", "", "", o.Next)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteRows prints one line per account, month and basis.
func (r Reconciliation) WriteRows(w io.Writer) error {
	var figures []decimal.Decimal
	for _, row := range r.Rows {
		figures = append(figures, row.Used, row.Invoiced, row.Pending)
	}
	places := exactPlaces(figures...)
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %-20s %-7s %16s %16s %14s %10s  %s\n", "month", "account", "basis", "used", "invoiced", "pending", "net NTD", "why pending")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "%-8s %-20s %-7s %16s %16s %14s %10d  %s\n", row.Month, row.AccountID, row.Basis,
			row.Used.StringFixed(places), row.Invoiced.StringFixed(places), row.Pending.StringFixed(places), row.Net, row.Reason)
		if row.Next != "" {
			fmt.Fprintf(&b, "%-8s %-20s run: %s\n", "", "", row.Next)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// exactPlaces is the number of decimal places that writes every figure
// exactly, at least four so that columns keep one shape. Rounding each
// figure apart would print sums that do not add up (12.6126 invoiced
// + 0.0002 pending against 12.6127 used).
func exactPlaces(figures ...decimal.Decimal) int32 {
	places := int32(4)
	for _, d := range figures {
		places = max(places, -d.Exponent())
	}
	return places
}

// lastVoided reports whether a bill has voids that no invoice issued
// since bills again (see bill.unbilledVoids): once one is, what is
// pending is something else (late usage, a new top-up).
func lastVoided(b *bill) bool { return len(b.unbilledVoids()) > 0 }

// awaitsReissue says whether a void waiting for its re-issue billed the
// top-up ref.
func awaitsReissue(b *bill, ref string) bool {
	for _, v := range b.unbilledVoids() {
		if sharesTopUp(v, nil, ref) {
			return true
		}
	}
	return false
}

// billedNTD is what a month's invoices count as billed under its rounding
// rule: their totals, with what voids took off the re-issue (carried by a
// live invoice, or by the next).
func billedNTD(b *bill) int64 {
	if b == nil {
		return 0
	}
	return b.totals + b.carried + max(b.less, 0)
}

// refusesBuyer says whether an account's monthly invoice would be refused
// as it stands (unprintable): the close leaves it out until its details
// are corrected. s.mu is held.
func (s *Service) refusesBuyer(acct string) bool {
	inv := domain.InvoiceIssued{AccountID: acct, Seller: s.seller.Snapshot()}
	buyer(&inv, s.l.accounts[acct])
	return s.unprintable(&inv) != ""
}

// ReturnedHeld is the money returned to an account for allowances on usage
// it had paid that it still holds: a move to a prepaid plan invoices it as
// a top-up paid then (docs/invoicing-ledger.md). It reads the store first.
func (s *Service) ReturnedHeld(ctx context.Context, acct string) (decimal.Decimal, error) {
	if err := s.Sync(ctx); err != nil {
		return decimal.Zero, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.l.accounts[acct]; a != nil && a.credit != nil {
		return a.credit.returned.Decimal(), nil
	}
	return decimal.Zero, nil
}

// ReturnedTopUp is money returned for allowances that an event (a move to
// a prepaid plan, a credit) invoiced as a top-up paid then: its amount, its
// reference (`returned-` and the event's ID) and the live invoice that
// bills it once issued (serve issues it at once, else `routefree invoices
// topups`).
type ReturnedTopUp struct {
	Amount    decimal.Decimal `json:"amount"`
	Reference string          `json:"reference"`
	Invoices  []string        `json:"invoices,omitempty"`
}

// ReturnedInvoiced is the money returned that the event eventID invoiced
// on account acct; ok is false when it invoiced none. It reads the store
// first.
func (s *Service) ReturnedInvoiced(ctx context.Context, acct, eventID string) (r ReturnedTopUp, ok bool, err error) {
	if err := s.Sync(ctx); err != nil {
		return ReturnedTopUp{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := "returned-" + eventID
	t := s.l.findTopUp(acct, ref)
	if t == nil {
		return ReturnedTopUp{}, false, nil
	}
	r = ReturnedTopUp{Amount: t.Amount.Decimal(), Reference: ref}
	if inv := t.cover; inv != nil && !inv.Voided {
		r.Invoices = []string{InvoiceRef(inv.Period, inv.Number)}
	}
	return r, true, nil
}
