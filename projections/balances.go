package projections

import (
	"context"
	"math/big"
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
	// Lifetime totals: TotalCredited (top-ups and adjustments) minus
	// TotalUsed (request costs) is Balance.
	TotalCredited, TotalUsed decimal.Decimal
	// The asked key's lifetime spending and its spending in now's Taipei
	// day, week (from Monday) and month, whatever its limit period.
	KeyUsed, KeyDay, KeyWeek, KeyMonth decimal.Decimal
	// The account's data requirement (DataRequirementSet).
	Residency   string
	NoRetention bool
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
// because only the current one is ever asked for. The amount's fields are
// kept inline so that the period's start fits in what would be an Amount's
// padding: 24 bytes a bucket rather than 32, and every account and every
// used key keeps one to four.
type spendBucket struct {
	coef  int64
	big   *big.Int
	exp   int32
	start int32 // minutes since the Unix epoch to the period's start; 0: none yet
}

func (b *spendBucket) spend() Amount { return Amount{coef: b.coef, exp: b.exp, big: b.big} }

func (b *spendBucket) set(a Amount) { b.coef, b.exp, b.big = a.coef, a.exp, a.big }

// minutes is a period's start (Unix seconds) as a bucket keeps it: periods
// start on whole minutes, and int32 minutes reach the year 6000.
func minutes(start int64) int32 { return int32(start / 60) }

func (b *spendBucket) add(start int64, cost decimal.Decimal) {
	switch m := minutes(start); {
	case m > b.start:
		b.start = m
		b.set(AmountOf(cost))
	case m == b.start:
		b.set(b.spend().Add(cost))
	} // an older period than the latest: it is over, nothing to keep
}

func (b *spendBucket) at(start int64) decimal.Decimal {
	if b.start == minutes(start) {
		return b.spend().Decimal()
	}
	return decimal.Zero
}

// amountAt is at's figure as an Amount, which allocates nothing.
func (b *spendBucket) amountAt(start int64) Amount {
	if b.start == minutes(start) {
		return b.spend()
	}
	return Amount{}
}

type balanceKey struct {
	limit  Amount
	period string
	spend  spendBucket
	use    *keyUse // nil until the key's first request
}

// plainKey is what most keys hold until their first request: no limit, the
// monthly period, nothing spent. The model keeps it as a nil record.
var plainKey = balanceKey{period: PeriodMonthly}

// keyUse is a key's spending for GET /api/v1/key: in all, and in the
// latest Taipei day, week and month.
type keyUse struct {
	used             Amount
	day, week, month spendBucket
}

// in is the key's spending in the latest period of its kind (none before
// its first request); for a limit that never resets, all it ever spent.
func (u *keyUse) in(period string) spendBucket {
	switch {
	case u == nil:
		return spendBucket{}
	case period == PeriodNever:
		b := spendBucket{start: minutes(lifeStart.Unix())}
		b.set(u.used)
		return b
	case period == PeriodDaily:
		return u.day
	case period == PeriodWeekly:
		return u.week
	}
	return u.month
}

// Balances is the account and balance projection: the gateway's credit
// check reads it on every request. Accounts live in the shared directory,
// which Balances alone writes.
type Balances struct {
	memCheckpoint
	accounts *Accounts
	mu       sync.RWMutex // guards keys; taken after accounts.mu
	// keys holds every key's limit and spending; nil stands for plainKey,
	// so that a key costs its map slot alone (24 bytes rather than 88) until
	// it has a limit or a request.
	keys map[string]*balanceKey
}

// key returns a key's record (a copy) and whether the key is known.
func (b *Balances) key(id string) (balanceKey, bool) {
	k, ok := b.keys[id]
	switch {
	case !ok:
		return balanceKey{}, false
	case k == nil:
		return plainKey, true
	}
	return *k, true
}

// setKey stores a key's record, as nil when it is plainKey.
func (b *Balances) setKey(id string, k balanceKey) {
	switch old := b.keys[id]; {
	case k == plainKey:
		b.keys[id] = nil
	case old != nil:
		*old = k
	default:
		b.keys[id] = &k
	}
}

var _ Projection = (*Balances)(nil)

// NewBalances returns an empty balance model with a directory of its own.
func NewBalances() *Balances { return newBalances(NewAccounts()) }

func newBalances(accounts *Accounts) *Balances {
	return &Balances{accounts: accounts, keys: map[string]*balanceKey{}}
}

// Accounts is the directory Balances writes.
func (b *Balances) Accounts() *Accounts { return b.accounts }

// Name implements Projection.
func (b *Balances) Name() string { return "balances" }

// View returns an account and, when keyID is set, that key's spending, as of
// now (which picks the month and the key's period).
func (b *Balances) View(account, keyID string, now time.Time) (AccountView, bool) {
	return b.view(account, keyID, now, true)
}

// Admission is View without the totals and the key's calendar spending: only
// what admitting and pricing a request need (plan, credit limit, discount,
// balance, the key's limit and its spending in its period, the data
// requirement). Every request reads it, and each figure it leaves out would
// be one more decimal allocated.
func (b *Balances) Admission(account, keyID string, now time.Time) (AccountView, bool) {
	return b.view(account, keyID, now, false)
}

func (b *Balances) view(account, keyID string, now time.Time, full bool) (AccountView, bool) {
	b.accounts.mu.RLock()
	defer b.accounts.mu.RUnlock()
	a, ok := b.accounts.byID[account]
	if !ok {
		return AccountView{}, false
	}
	v := AccountView{
		AccountID: account, Organisation: a.org, TaxID: a.taxID, Plan: a.plan(),
		CreditLimit: a.creditLimit.Decimal(), VolumeDiscount: a.extras().discount.Decimal(), Suspended: a.suspended,
		Balance: a.balance.Decimal(), AppliedUsageVersion: a.usageVersion(),
	}
	if x := a.extra; x != nil {
		v.Residency, v.NoRetention = x.residency, x.noRetention
	}
	if full {
		var month spendBucket
		if u := a.use; u != nil {
			month = u.month
			if u.costed {
				v.TotalUsed = u.used.Decimal()
			}
		}
		v.MonthSpend = month.at(PeriodStart(PeriodMonthly, now).Unix())
		v.TotalCredited = v.Balance.Add(v.TotalUsed)
	}
	if keyID == "" {
		return v, true
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if k, ok := b.key(keyID); ok {
		start := PeriodStart(k.period, now)
		v.KeyID, v.KeySpendLimit, v.KeySpendPeriod = keyID, k.limit.Decimal(), k.period
		v.KeyPeriodStart, v.KeySpend = start, k.spend.at(start.Unix())
		if u := k.use; u != nil && full {
			v.KeyUsed, v.KeyDay = u.used.Decimal(), u.day.at(PeriodStart(PeriodDaily, now).Unix())
			v.KeyWeek, v.KeyMonth = u.week.at(PeriodStart(PeriodWeekly, now).Unix()), u.month.at(PeriodStart(PeriodMonthly, now).Unix())
		}
	}
	return v, true
}

// Balances returns every account's balance.
func (b *Balances) Balances() map[string]decimal.Decimal {
	b.accounts.mu.RLock()
	defer b.accounts.mu.RUnlock()
	out := make(map[string]decimal.Decimal, len(b.accounts.byID))
	for id, a := range b.accounts.byID {
		out[id] = a.balance.Decimal()
	}
	return out
}

// lockEvery bounds how long a batch holds the write lock, so the gateway's
// reads wait microseconds, not a whole replay batch.
const lockEvery = 256

// Apply implements Projection.
func (b *Balances) Apply(_ context.Context, batch []Event) error {
	batch = b.fresh(batch)
	for lo := 0; lo < len(batch); lo += lockEvery {
		hi := min(lo+lockEvery, len(batch))
		b.lock()
		for i := lo; i < hi; i++ {
			if err := b.apply(&batch[i]); err != nil {
				b.unlock()
				b.done(batch[:i])
				return err
			}
		}
		b.unlock()
		b.done(batch[:hi])
	}
	return nil
}

func (b *Balances) lock()   { b.accounts.mu.Lock(); b.mu.Lock() }
func (b *Balances) unlock() { b.mu.Unlock(); b.accounts.mu.Unlock() }

// apply folds one event; both locks are held.
func (b *Balances) apply(e *Event) error {
	if b.accounts.applyAccountEvent(e) {
		return b.applyUsageVersion(e)
	}
	switch v := e.Body.(type) {
	case *domain.KeyIssued:
		b.setKey(v.KeyID, balanceKey{limit: AmountOf(v.SpendLimit), period: spendPeriod(v.SpendPeriod)})
	case *domain.KeyChanged:
		// A new limit counts what the key spent in its period so far; a new
		// period counts what the key spent in that period, as its usage by
		// day, week and month shows it, so that moving a limit to a longer
		// period does not hand out what was already spent in it again.
		k, _ := b.key(v.KeyID)
		if p := spendPeriod(v.SpendPeriod); p != k.period {
			k.spend = k.use.in(p)
			k.period = p
		}
		k.limit = AmountOf(v.SpendLimit)
		b.setKey(v.KeyID, k)
	case *domain.CreditsToppedUp:
		a := b.account(v.AccountID)
		b.accounts.setBalance(a, a.balance.Add(v.Amount))
	case *domain.CreditsAdjusted:
		a := b.account(v.AccountID)
		b.accounts.setBalance(a, a.balance.Add(v.Amount))
	case *domain.RequestCompleted:
		a := b.account(v.AccountID)
		b.accounts.setBalance(a, a.balance.Sub(v.Cost))
		u := a.usage()
		u.used, u.costed = u.used.Add(v.Cost), true
		at := v.StartedAt
		if at.IsZero() {
			at = e.OccurredAt
		}
		u.month.add(PeriodStart(PeriodMonthly, at).Unix(), v.Cost)
		if k, ok := b.keys[v.KeyID]; ok {
			if k == nil {
				k = &balanceKey{period: PeriodMonthly}
				b.keys[v.KeyID] = k
			}
			k.spend.add(PeriodStart(k.period, at).Unix(), v.Cost)
			if k.use == nil {
				k.use = &keyUse{}
			}
			k.use.used = k.use.used.Add(v.Cost)
			k.use.day.add(PeriodStart(PeriodDaily, at).Unix(), v.Cost)
			k.use.week.add(PeriodStart(PeriodWeekly, at).Unix(), v.Cost)
			k.use.month.add(PeriodStart(PeriodMonthly, at).Unix(), v.Cost)
		}
	default:
		if e.Err != nil && isBalanceType(e.Type) {
			return e.Err
		}
	}
	return b.applyUsageVersion(e)
}

// applyUsageVersion notes how far the account's usage stream is folded.
func (b *Balances) applyUsageVersion(e *Event) error {
	if acct, ok := strings.CutPrefix(e.Stream, domain.UsageStream("")); ok {
		b.account(acct).usage().version = int64(e.Version)
	}
	return nil
}

func (b *Balances) account(id string) *accountRec { return b.accounts.rec(id) }

func isBalanceType(t string) bool {
	switch t {
	case domain.TypeAccountOpened, domain.TypePlanChanged, domain.TypeAccountSuspended, domain.TypeAccountResumed, domain.TypeKeyIssued,
		domain.TypeKeyChanged, domain.TypeDataRequirementSet, domain.TypeDetailsChanged, domain.TypeInvoiceCarrierSet,
		domain.TypeCreditsToppedUp, domain.TypeCreditsAdjusted, domain.TypeRequestCompleted:
		return true
	}
	return false
}
