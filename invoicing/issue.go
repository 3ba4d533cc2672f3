package invoicing

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// ParseMonth checks a billing month (YYYY-MM).
func ParseMonth(month string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01", month, twrules.Taipei)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: month %q: want YYYY-MM", ErrInvalid, month)
	}
	return t, nil
}

// issueTime is the instant of issue, whole seconds (as printed and filed).
func (s *Service) issueTime() time.Time { return s.now().UTC().Truncate(time.Second) }

// buyer fills the buyer of an invoice: B2B with the account's valid
// 統一編號, else B2C.
func buyer(inv *domain.InvoiceIssued, a *account) {
	if a != nil && domain.ValidTaxID(a.TaxID) {
		inv.Kind, inv.BuyerTaxID, inv.BuyerName = pdf.KindB2B, a.TaxID, a.Organisation
		if inv.BuyerName == "" {
			inv.BuyerName = a.TaxID
		}
		return
	}
	inv.Kind = pdf.KindB2C
}

// amounts sets the whole-NTD total (the full-precision cost rounded half-up
// once) and splits it into sales and tax once, on the total (§32-1).
func amounts(inv *domain.InvoiceIssued, cost decimal.Decimal) {
	inv.Total = twrules.RoundNTD(cost)
	inv.Sales, inv.Tax = twrules.SplitInclusive(inv.Total)
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
	Reason    string
}

// monthlyDraft builds the monthly invoice of an account from its usage, or
// says why there is none.
func (s *Service) monthlyDraft(acct, month string, at time.Time) (draft, *Skip) {
	a := s.l.accounts[acct]
	models := append([]modelUsage(nil), s.l.usage[acctMonth{acct, month}]...)
	cost := decimal.Zero
	for _, u := range models {
		cost = cost.Add(u.Cost.Decimal())
	}
	sort.Slice(models, func(i, j int) bool { return models[i].Model < models[j].Model })
	inv := domain.InvoiceIssued{AccountID: acct, Month: month, IssuedAt: at, RandomCode: randomCode()}
	buyer(&inv, a)
	amounts(&inv, cost)
	if inv.Total <= 0 {
		return draft{}, &Skip{AccountID: acct, Reason: fmt.Sprintf("usage of %s costs NT$%s: no zero or negative invoice", month, cost.StringFixed(2))}
	}
	for _, u := range models {
		amt := lineAmount(inv.Kind, u.Cost.Decimal())
		inv.Lines = append(inv.Lines, domain.InvoiceLine{
			Description: fmt.Sprintf("%s 用量 %s（輸入 %d／輸出 %d tokens）", strings.ReplaceAll(u.Model, ":", "-"), month, u.TokensIn, u.TokensOut),
			Quantity:    decimal.NewFromInt(1), Unit: "式", UnitPrice: amt, Amount: amt,
		})
	}
	return draft{id: monthlyEventID(acct, month), key: monthlyKey(acct, month), inv: inv}, nil
}

// IssueMonthly issues an account's invoice for a billing month now (also
// before the month ends: immediate issuance). created is false when the
// invoice already existed.
func (s *Service) IssueMonthly(ctx context.Context, acct, month string) (inv Invoice, created bool, err error) {
	if _, err := ParseMonth(month); err != nil {
		return Invoice{}, false, err
	}
	if err := s.Sync(ctx); err != nil {
		return Invoice{}, false, err
	}
	at := s.issueTime()
	s.mu.Lock()
	if s.l.accounts[acct] == nil {
		s.mu.Unlock()
		return Invoice{}, false, fmt.Errorf("%w: account %s", ErrNotFound, acct)
	}
	if existing := s.l.byKey[monthlyKey(acct, month)]; existing != nil {
		c := existing.clone()
		s.mu.Unlock()
		return c, false, nil
	}
	d, skip := s.monthlyDraft(acct, month, at)
	s.mu.Unlock()
	if skip != nil {
		return Invoice{}, false, fmt.Errorf("%w: %s", ErrInvalid, skip.Reason)
	}
	out, created2, err := s.allocate(ctx, twrules.PeriodOf(at), []draft{d})
	if err != nil {
		return Invoice{}, false, err
	}
	return out[0], created2[0], nil
}

// IssueTopUp issues the invoice of a paid top-up (credit card or bank
// transfer) of a prepaid account, once per (account, reference).
func (s *Service) IssueTopUp(ctx context.Context, acct, ref string) (Invoice, bool, error) {
	if err := s.Sync(ctx); err != nil {
		return Invoice{}, false, err
	}
	s.mu.Lock()
	var t *topUp
	for i := range s.l.topUps {
		if s.l.topUps[i].AccountID == acct && s.l.topUps[i].Reference == ref {
			t = &s.l.topUps[i]
		}
	}
	if existing := s.l.byKey[topUpKey(acct, ref)]; existing != nil {
		c := existing.clone()
		s.mu.Unlock()
		return c, false, nil
	}
	if t == nil {
		s.mu.Unlock()
		return Invoice{}, false, fmt.Errorf("%w: no paid top-up %q for account %s", ErrNotFound, ref, acct)
	}
	d := s.topUpDraft(*t, s.issueTime())
	s.mu.Unlock()
	if d.inv.Total <= 0 {
		return Invoice{}, false, fmt.Errorf("%w: top-up %s rounds to NT$%d: no zero invoice", ErrInvalid, ref, d.inv.Total)
	}
	out, created, err := s.allocate(ctx, twrules.PeriodOf(d.inv.IssuedAt), []draft{d})
	if err != nil {
		return Invoice{}, false, err
	}
	return out[0], created[0], nil
}

func (s *Service) topUpDraft(t topUp, at time.Time) draft {
	inv := domain.InvoiceIssued{AccountID: t.AccountID, TopUpRef: t.Reference, IssuedAt: at, RandomCode: randomCode()}
	buyer(&inv, s.l.accounts[t.AccountID])
	amounts(&inv, t.Amount.Decimal())
	amt := lineAmount(inv.Kind, t.Amount.Decimal())
	inv.Lines = []domain.InvoiceLine{{Description: "API 預付儲值", Quantity: decimal.NewFromInt(1), Unit: "筆", UnitPrice: amt, Amount: amt}}
	return draft{id: topUpEventID(t.AccountID, t.Reference), key: topUpKey(t.AccountID, t.Reference), inv: inv}
}

// randomCode draws the 隨機碼 (B2B and B2C alike: the proof's barcodes need
// one). crypto/rand does not fail on supported platforms.
func randomCode() string {
	c, err := twrules.RandomCode()
	if err != nil {
		panic(err)
	}
	return c
}
