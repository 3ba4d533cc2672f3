package projections

import (
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/internal/paging"
)

// Account is what the directory knows of an account besides its money.
type Account struct {
	ID             string
	Organisation   string
	TaxID          string
	Address        string
	Contact        string
	Plan           domain.Plan
	RPM, TPM       int64 // custom limits from PlanChanged (zero: the plan's)
	CreditLimit    decimal.Decimal
	VolumeDiscount decimal.Decimal
	Suspended      bool
	OpenedAt       time.Time
}

// accountRec is one account of the directory: its facts and, beside them,
// the money the Balances projection folds. One is kept per account, so the
// facts most accounts lack live apart, in extra.
type accountRec struct {
	id, org, taxID    string
	openedAt          int64 // Unix nanoseconds (0 when unknown): 16 bytes less than a time.Time
	creditLimit       Amount
	extra             *accountExtra // nil while all its fields are zero
	opened, suspended bool
	planCode          uint8 // the plan, an index in plans; len(plans): extra.plan

	balance Amount
	// use is what the account's usage stream brought: nil until its first
	// event there, as for most accounts.
	use *accountUse
}

// accountUse is what an account's requests add to its record.
type accountUse struct {
	version int64       // last version of the account's usage stream folded; -1: none
	month   spendBucket // the cost of requests in the latest Taipei month
	// used is every request's cost (top-ups and adjustments are balance +
	// used), set once the first cost is folded (costed).
	used   Amount
	costed bool
}

// usage returns the account's use, adding it when new.
func (a *accountRec) usage() *accountUse {
	if a.use == nil {
		a.use = &accountUse{version: -1}
	}
	return a.use
}

// usageVersion is the last version of the account's usage stream folded;
// -1: none.
func (a *accountRec) usageVersion() int64 {
	if a.use == nil {
		return -1
	}
	return a.use.version
}

// accountExtra holds the facts that most accounts lack.
type accountExtra struct {
	address, contact string
	rpm, tpm         int64
	discount         Amount
	residency        string // the account's data requirement (DataRequirementSet)
	noRetention      bool
	plan             domain.Plan // a plan that is not one of plans
}

// plans are the plans an account record keeps as a code (a byte where a
// string takes 16).
var plans = [...]domain.Plan{domain.PlanStarter, domain.PlanBusiness, domain.PlanEnterprise}

func (a *accountRec) plan() domain.Plan {
	if int(a.planCode) < len(plans) {
		return plans[a.planCode]
	}
	return a.extras().plan
}

func (a *accountRec) setPlan(p domain.Plan) {
	x := a.extras()
	x.plan = ""
	a.planCode = uint8(len(plans))
	for i, known := range plans {
		if p == known {
			a.planCode = uint8(i)
		}
	}
	if int(a.planCode) == len(plans) {
		x.plan = p
	}
	a.setExtra(x)
}

// setExtra stores the rare facts, dropping extra when they are all zero.
func (a *accountRec) setExtra(x accountExtra) {
	if x == (accountExtra{}) {
		a.extra = nil
		return
	}
	a.extra = &x
}

func (a *accountRec) extras() accountExtra {
	if a.extra == nil {
		return accountExtra{}
	}
	return *a.extra
}

func (a *accountRec) account() Account {
	x := a.extras()
	return Account{ID: a.id, Organisation: a.org, TaxID: a.taxID, Address: x.address, Contact: x.contact,
		Plan: a.plan(), RPM: x.rpm, TPM: x.tpm, CreditLimit: a.creditLimit.Decimal(),
		VolumeDiscount: x.discount.Decimal(), Suspended: a.suspended, OpenedAt: a.opening()}
}

// opening is when the account was opened (zero when unknown).
func (a *accountRec) opening() time.Time { return fromUnixNano(a.openedAt) }

// Accounts is the one per-account directory of the process. The Balances
// projection is its only writer (account events and the money); the key
// model and the console read it, so no read model keeps a copy of its own.
// Readers see what Balances has applied, which the runner keeps at the
// store's head with the other projections.
type Accounts struct {
	mu     sync.RWMutex
	byID   map[string]*accountRec
	opened []*accountRec // in the order the accounts were opened
	// owing are the accounts whose balance is below zero, kept as balances
	// change so that the console finds them without going through every
	// account: few accounts owe.
	owing map[*accountRec]struct{}
}

// NewAccounts returns an empty directory.
func NewAccounts() *Accounts {
	return &Accounts{byID: map[string]*accountRec{}, owing: map[*accountRec]struct{}{}}
}

// Get returns an opened account.
func (d *Accounts) Get(id string) (Account, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.byID[id]
	if !ok || !a.opened {
		return Account{}, false
	}
	return a.account(), true
}

// IsOpened reports whether the account is opened.
func (d *Accounts) IsOpened(id string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.byID[id]
	return ok && a.opened
}

// Opened lists the opened accounts in the order they were opened.
func (d *Accounts) Opened() []Account {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]Account, len(d.opened))
	for i, a := range d.opened {
		out[i] = a.account()
	}
	return out
}

// LookAlike lists the opened accounts whose IDs equal id ignoring case
// (strings.EqualFold) but differ from it, in the order they were opened.
func (d *Accounts) LookAlike(id string) []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []string
	for _, a := range d.opened {
		if a.id != id && strings.EqualFold(a.id, id) {
			out = append(out, a.id)
		}
	}
	return out
}

// OpenedPage lists the page r asks for of the opened accounts, in the
// order they were opened, and how many are opened: a page costs its own
// accounts, not the directory's.
func (d *Accounts) OpenedPage(r paging.Request) (page []Account, total int) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	total = len(d.opened)
	from, to := paging.Bounds(total, r)
	page = make([]Account, to-from)
	for i, a := range d.opened[from:to] {
		page[i] = a.account()
	}
	return page, total
}

// Count is the number of opened accounts.
func (d *Accounts) Count() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.opened)
}

// AccountSummary is what a list of accounts searches, filters and sorts
// by: the directory's own strings and amounts, so that going through every
// account allocates nothing (an Account's decimals would).
type AccountSummary struct {
	ID, Organisation, TaxID, Address, Contact string
	Plan                                      domain.Plan
	Suspended                                 bool
	OpenedAt                                  int64 // Unix nanoseconds (0 when unknown)
	Balance, CreditLimit                      Amount
	MonthSpend                                Amount // requests started in now's Taipei month
}

// summary is the account's AccountSummary in the month starting at month
// (Unix seconds); d.mu is held.
func (a *accountRec) summary(month int64) AccountSummary {
	s := AccountSummary{ID: a.id, Organisation: a.org, TaxID: a.taxID, Plan: a.plan(), Suspended: a.suspended,
		OpenedAt: a.openedAt, Balance: a.balance, CreditLimit: a.creditLimit}
	if x := a.extra; x != nil {
		s.Address, s.Contact = x.address, x.contact
	}
	if u := a.use; u != nil {
		s.MonthSpend = u.month.amountAt(month)
	}
	return s
}

// Summaries calls f with each opened account in the order they were
// opened, as of now (which picks the month), and its place in that order.
// f runs under the directory's read lock: it must not call the directory
// nor the models that read it.
func (d *Accounts) Summaries(now time.Time, f func(seq int, a AccountSummary)) {
	month := PeriodStart(PeriodMonthly, now).Unix()
	d.mu.RLock()
	defer d.mu.RUnlock()
	for i, a := range d.opened {
		f(i, a.summary(month))
	}
}

// Owing lists the opened accounts whose balance is below zero, as of now
// (which picks the month), in no particular order.
func (d *Accounts) Owing(now time.Time) []AccountSummary {
	month := PeriodStart(PeriodMonthly, now).Unix()
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []AccountSummary
	for a := range d.owing {
		if a.opened {
			out = append(out, a.summary(month))
		}
	}
	return out
}

// setBalance changes an account's balance, keeping owing; d.mu is held
// for writing.
func (d *Accounts) setBalance(a *accountRec, balance Amount) {
	was, is := a.balance.Sign() < 0, balance.Sign() < 0
	a.balance = balance
	// Only a change of sign touches the set: most requests leave it be.
	switch {
	case is && !was:
		d.owing[a] = struct{}{}
	case was && !is:
		delete(d.owing, a)
	}
}

// limits returns what the key model needs of an account on each request;
// an account without events is on the starter plan.
func (d *Accounts) limits(id string) (plan domain.Plan, rpm, tpm int64, suspended bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.byID[id]
	if !ok {
		return domain.PlanStarter, 0, 0, false
	}
	x := a.extras()
	return a.plan(), x.rpm, x.tpm, a.suspended
}

// rec returns an account's record, adding it when new; d.mu is held.
func (d *Accounts) rec(id string) *accountRec {
	a, ok := d.byID[id]
	if !ok {
		a = &accountRec{id: id} // plan code 0: the starter plan
		d.byID[id] = a
	}
	return a
}

// applyAccountEvent folds an account event; d.mu is held. It reports
// whether the event was one.
func (d *Accounts) applyAccountEvent(e *Event) bool {
	switch v := e.Body.(type) {
	case *domain.AccountOpened:
		a := d.rec(v.AccountID)
		a.org, a.taxID, a.creditLimit, a.openedAt = v.Organisation, v.TaxID, AmountOf(v.CreditLimit), unixNano(e.OccurredAt)
		a.setPlan(v.Plan)
		x := a.extras()
		x.address, x.contact = v.Address, v.Contact
		a.setExtra(x)
		if !a.opened {
			a.opened = true
			d.opened = append(d.opened, a)
		}
	case *domain.PlanChanged:
		a := d.rec(v.AccountID)
		a.creditLimit = AmountOf(v.CreditLimit)
		a.setPlan(v.Plan)
		x := a.extras()
		x.rpm, x.tpm, x.discount = v.RPM, v.TPM, AmountOf(v.VolumeDiscount)
		a.setExtra(x)
	case *domain.AccountSuspended:
		d.rec(v.AccountID).suspended = true
	case *domain.AccountResumed:
		d.rec(v.AccountID).suspended = false
	case *domain.AccountDetailsChanged:
		a := d.rec(v.AccountID)
		a.org, a.taxID = v.Organisation, v.TaxID
		x := a.extras()
		x.address, x.contact = v.Address, v.Contact
		a.setExtra(x)
	case *domain.InvoiceCarrierSet:
		if v.TaxID == nil { // a change of carrier alone
			return true
		}
		d.rec(v.AccountID).taxID = *v.TaxID // the customer's own 統一編號
	case *domain.DataRequirementSet:
		a := d.rec(v.AccountID)
		x := a.extras()
		x.residency, x.noRetention = v.Residency, v.NoRetention
		a.setExtra(x)
	default:
		return false
	}
	return true
}
