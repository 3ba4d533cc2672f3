package projections

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// AccountView is an account's money as the gateway sees it.
type AccountView struct {
	AccountID      string
	Organisation   string
	TaxID          string
	Plan           domain.Plan
	CreditLimit    decimal.Decimal
	VolumeDiscount decimal.Decimal
	Suspended      bool
	// Balance is top-ups plus adjustments minus request costs.
	Balance decimal.Decimal
	// AppliedUsageVersion is the last version of the account's usage stream
	// (domain.UsageStream) folded into Balance; -1 when none.
	AppliedUsageVersion int64
	// MonthSpend is the cost of requests started in now's Taipei month.
	MonthSpend decimal.Decimal
	// Key: the asked key's spending in its period holding now (zero values
	// when no key was asked or it is unknown).
	KeyID          string
	KeySpendLimit  decimal.Decimal
	KeySpendPeriod string
	KeyPeriodStart time.Time
	KeySpend       decimal.Decimal
}

// Available is the credit left: the balance, plus the credit limit on a
// postpaid plan.
func (v AccountView) Available() decimal.Decimal {
	if v.Plan.Postpaid() {
		return v.Balance.Add(v.CreditLimit)
	}
	return v.Balance
}

// spendBucket is spending in one period; only the latest period is kept
// because only the current one is ever asked for.
type spendBucket struct {
	start int64 // unix seconds of the period's start
	spend decimal.Decimal
}

func (b *spendBucket) add(start int64, cost decimal.Decimal) {
	switch {
	case start > b.start:
		b.start, b.spend = start, cost
	case start == b.start:
		b.spend = b.spend.Add(cost)
	} // an older period than the latest: it is over, nothing to keep
}

func (b *spendBucket) at(start int64) decimal.Decimal {
	if b.start == start {
		return b.spend
	}
	return decimal.Zero
}

type balanceAccount struct {
	org, taxID   string
	plan         domain.Plan
	creditLimit  decimal.Decimal
	discount     decimal.Decimal
	suspended    bool
	balance      decimal.Decimal
	usageVersion int64
	month        spendBucket
}

type balanceKey struct {
	limit  decimal.Decimal
	period string
	spend  spendBucket
}

// Balances is the account and balance projection: the gateway's credit
// check reads it on every request.
type Balances struct {
	memCheckpoint
	mu       sync.RWMutex
	accounts map[string]*balanceAccount
	keys     map[string]*balanceKey
}

var _ Projection = (*Balances)(nil)

// NewBalances returns an empty balance model.
func NewBalances() *Balances {
	return &Balances{accounts: map[string]*balanceAccount{}, keys: map[string]*balanceKey{}}
}

// Name implements Projection.
func (b *Balances) Name() string { return "balances" }

// View returns an account and, when keyID is set, that key's spending, as of
// now (which picks the month and the key's period).
func (b *Balances) View(account, keyID string, now time.Time) (AccountView, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	a, ok := b.accounts[account]
	if !ok {
		return AccountView{}, false
	}
	v := AccountView{
		AccountID: account, Organisation: a.org, TaxID: a.taxID, Plan: a.plan,
		CreditLimit: a.creditLimit, VolumeDiscount: a.discount, Suspended: a.suspended,
		Balance: a.balance, AppliedUsageVersion: a.usageVersion,
		MonthSpend: a.month.at(PeriodStart(PeriodMonthly, now).Unix()),
	}
	if k, ok := b.keys[keyID]; ok && keyID != "" {
		start := PeriodStart(k.period, now)
		v.KeyID, v.KeySpendLimit, v.KeySpendPeriod = keyID, k.limit, k.period
		v.KeyPeriodStart, v.KeySpend = start, k.spend.at(start.Unix())
	}
	return v, true
}

// Balances returns every account's balance.
func (b *Balances) Balances() map[string]decimal.Decimal {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[string]decimal.Decimal, len(b.accounts))
	for id, a := range b.accounts {
		out[id] = a.balance
	}
	return out
}

func (b *Balances) account(id string) *balanceAccount {
	a, ok := b.accounts[id]
	if !ok {
		a = &balanceAccount{plan: domain.PlanStarter, usageVersion: -1}
		b.accounts[id] = a
	}
	return a
}

// lockEvery bounds how long a batch holds the write lock, so the gateway's
// reads wait microseconds, not a whole replay batch.
const lockEvery = 256

// Apply implements Projection.
func (b *Balances) Apply(_ context.Context, batch []Event) error {
	batch = b.fresh(batch)
	for lo := 0; lo < len(batch); lo += lockEvery {
		hi := min(lo+lockEvery, len(batch))
		b.mu.Lock()
		for i := lo; i < hi; i++ {
			if err := b.apply(&batch[i]); err != nil {
				b.mu.Unlock()
				b.done(batch[:i])
				return err
			}
		}
		b.mu.Unlock()
		b.done(batch[:hi])
	}
	return nil
}

func (b *Balances) apply(e *Event) error {
	switch v := e.Body.(type) {
	case *domain.AccountOpened:
		a := b.account(v.AccountID)
		a.org, a.taxID, a.plan, a.creditLimit = v.Organisation, v.TaxID, v.Plan, v.CreditLimit
	case *domain.PlanChanged:
		a := b.account(v.AccountID)
		a.plan, a.creditLimit, a.discount = v.Plan, v.CreditLimit, v.VolumeDiscount
	case *domain.AccountSuspended:
		b.account(v.AccountID).suspended = true
	case *domain.KeyIssued:
		period := v.SpendPeriod
		if period == "" {
			period = PeriodMonthly
		}
		b.keys[v.KeyID] = &balanceKey{limit: v.SpendLimit, period: period}
	case *domain.CreditsToppedUp:
		a := b.account(v.AccountID)
		a.balance = a.balance.Add(v.Amount)
	case *domain.CreditsAdjusted:
		a := b.account(v.AccountID)
		a.balance = a.balance.Add(v.Amount)
	case *domain.RequestCompleted:
		a := b.account(v.AccountID)
		a.balance = a.balance.Sub(v.Cost)
		at := v.StartedAt
		if at.IsZero() {
			at = e.OccurredAt
		}
		a.month.add(PeriodStart(PeriodMonthly, at).Unix(), v.Cost)
		if k, ok := b.keys[v.KeyID]; ok {
			k.spend.add(PeriodStart(k.period, at).Unix(), v.Cost)
		}
	default:
		if e.Err != nil && isBalanceType(e.Type) {
			return e.Err
		}
	}
	if acct, ok := strings.CutPrefix(e.Stream, domain.UsageStream("")); ok {
		b.account(acct).usageVersion = int64(e.Version)
	}
	return nil
}

func isBalanceType(t string) bool {
	switch t {
	case domain.TypeAccountOpened, domain.TypePlanChanged, domain.TypeAccountSuspended, domain.TypeKeyIssued,
		domain.TypeCreditsToppedUp, domain.TypeCreditsAdjusted, domain.TypeRequestCompleted:
		return true
	}
	return false
}
