package invoicing

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/invoicing/twrules"
)

// CreditOffset is credit given (an adjustment up, credit topped up by
// adjustment) that offsets usage monthly invoices billed and the account
// still owes. Postpaid usage never draws such credit, so it only lowers
// what the customer pays: the invoices would go on billing an amount never
// collected. An allowance (折讓) forgives billed usage; issued, it is paid
// by that credit (credit.allow), and the documents add up.
type CreditOffset struct {
	AccountID string          `json:"account_id"`
	Credit    decimal.Decimal `json:"credit"`       // credit given, not yet drawn
	Owed      decimal.Decimal `json:"owed"`         // usage live invoices bill, neither paid nor allowed
	ToAllow   int64           `json:"to_allow_ntd"` // the smaller of the two in whole NTD, rounded down
	// Invoices are the account's live monthly invoices that still bill
	// something, newest first, by period and number; Next is the
	// allowance to issue on the newest.
	Invoices []string `json:"invoices,omitempty"`
	Next     string   `json:"next,omitempty"`
	// From is set when the invoice Next names takes no allowance yet: its
	// buyer has no 統一編號 and its period is not filed (B2CAllowanceError).
	// It is the first day it does (YYYY-MM-DD, Taipei).
	From string `json:"allow_from,omitempty"`
}

// CreditOffset reports an account's credit given that offsets invoiced
// usage it still owes, with more credit given on top (a positive
// adjustment about to be recorded, or zero), taken as the ledger will
// record it: what of it pays what allowances left owed, or returns what
// they took off usage paid, is no credit given. ToAllow is 0 when there
// is none. It reads the store first.
func (s *Service) CreditOffset(ctx context.Context, acct string, more decimal.Decimal) (CreditOffset, error) {
	if err := s.Sync(ctx); err != nil {
		return CreditOffset{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, _ := s.creditOffset(acct, decimal.Max(more, decimal.Zero), s.unbilledUsage(acct))
	return o, nil
}

// creditOffsets lists every account whose credit given offsets invoiced
// usage of at least NT$1, by account. s.mu is held.
func (s *Service) creditOffsets() []CreditOffset {
	unbilled := s.unbilledUsage("")
	var out []CreditOffset
	for id := range s.l.accounts {
		if o, ok := s.creditOffset(id, decimal.Zero, unbilled); ok {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AccountID < out[j].AccountID })
	return out
}

// creditOffset is acct's credit offset, with more credit given, given each
// account's usage that no live invoice bills yet; ok when it is at least
// NT$1. s.mu is held.
func (s *Service) creditOffset(acct string, more decimal.Decimal, unbilled map[string]decimal.Decimal) (o CreditOffset, ok bool) {
	o.AccountID = acct
	a := s.l.accounts[acct]
	if a == nil || a.credit == nil {
		return o, false
	}
	c := *a.credit
	if more.IsPositive() {
		// The credit as it will be recorded: it pays what allowances left
		// owed and returns what they took off usage paid before it is
		// credit given.
		var debt *allowedDebt
		if d := s.l.allowed[acct]; d != nil {
			copied := *d
			debt = &copied
		}
		adjustCredit(&c, debt, more)
	}
	if c.due.Sign() <= 0 {
		return o, false
	}
	// What is due and not pending on a later invoice is what the live
	// invoices bill: payments pay the oldest first.
	o.Credit = c.free.Decimal()
	o.Owed = decimal.Max(c.due.Decimal().Sub(unbilled[acct]), decimal.Zero)
	o.ToAllow = decimal.Min(o.Credit, o.Owed).Floor().IntPart()
	if o.ToAllow < 1 {
		return o, false
	}
	var live []*invoice
	for k, b := range s.l.months {
		if k.acct != acct {
			continue
		}
		for _, inv := range b.live() {
			if inv.Net() > 0 {
				live = append(live, inv)
			}
		}
	}
	// Newest first; invoices of one instant (a close of several months) by
	// their place in the numbering, so that the advice is the same on every
	// read of the history.
	sort.Slice(live, func(i, j int) bool {
		a, b := live[i], live[j]
		if !a.IssuedAt.Equal(b.IssuedAt) {
			return a.IssuedAt.After(b.IssuedAt)
		}
		if a.Period != b.Period {
			return a.Period > b.Period
		}
		return s.numberIndex(a) > s.numberIndex(b)
	})
	for _, inv := range live {
		o.Invoices = append(o.Invoices, InvoiceRef(inv.Period, inv.Number))
	}
	if len(live) > 0 {
		// The newest that takes an allowance now: an invoice without a
		// buyer 統一編號 takes none before its period is filed.
		inv, period := live[0], ""
		if i := slices.IndexFunc(live, func(inv *invoice) bool { return s.allowFrom(inv) == "" }); i >= 0 {
			inv = live[i]
		} else {
			o.From = s.allowFrom(inv)
		}
		if s.l.reused[inv.Number] {
			period = " --period " + inv.Period // the number names two invoices
		}
		o.Next = fmt.Sprintf("routefree invoices allowance --number %s%s --amount %d --reason '…'",
			inv.Number, period, min(o.ToAllow, inv.Net()))
	}
	return o, true
}

// allowFrom is the first day (YYYY-MM-DD, Taipei) an allowance is taken
// on inv when that is after today: its buyer has no 統一編號 and its
// period is not filed (AllowanceBeforeFiling); "" when it takes one now.
func (s *Service) allowFrom(inv *invoice) string {
	if inv.BuyerTaxID != "" {
		return ""
	}
	p, _ := twrules.ParsePeriod(inv.Period)
	if d := p.FilingDeadline(); s.now().Before(d) {
		return d.In(twrules.Taipei).Format(time.DateOnly)
	}
	return ""
}

// unbilledUsage sums, by account, the usage that no live invoice bills yet
// (acct "": every account's).
func (s *Service) unbilledUsage(acct string) map[string]decimal.Decimal {
	out := map[string]decimal.Decimal{}
	for k, models := range s.l.usage {
		if acct != "" && k.acct != acct {
			continue
		}
		used := decimal.Zero
		for _, u := range models {
			used = used.Add(u.Cost.Decimal())
		}
		if b := s.l.months[k]; b != nil {
			used = used.Sub(b.covers)
		}
		if used.IsPositive() {
			out[k.acct] = out[k.acct].Add(used)
		}
	}
	return out
}

// Advice says in a line what the offset is and what forgives it, "" when
// there is none; Next is the command to run.
func (o CreditOffset) Advice() string {
	if o.ToAllow < 1 {
		return ""
	}
	on := "the invoice the next close issues"
	if len(o.Invoices) > 0 {
		on = strings.Join(printed(o.Invoices), ", ")
	}
	when := ""
	if o.From != "" {
		when = fmt.Sprintf(", from %s, once its period is filed (a buyer without a 統一編號 takes no allowance before)", o.From)
	}
	return fmt.Sprintf("%s: NT$%s of credit given offsets NT$%s that its invoices bill and it still owes; "+
		"credit does not forgive billed usage, an allowance (折讓) of NT$%d on %s does (the credit then pays it)%s",
		o.AccountID, o.Credit, o.Owed, o.ToAllow, on, when)
}

// printed writes invoice references as the invoices print their numbers.
func printed(refs []string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		_, n := splitRef(r)
		out[i] = twrules.PrintedNumber(n)
	}
	return out
}

// numberIndex is an invoice's place among its period's numbers (the order
// they were issued in); -1 when its period's ranges do not hold it. s.mu is
// held.
func (s *Service) numberIndex(inv *invoice) int64 {
	if st := s.l.ranges[inv.Period]; st != nil {
		if k, ok := st.rngs.Index(inv.Number); ok {
			return k
		}
	}
	return -1
}
