package projections

import (
	"context"
	"sort"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// Default rate limits of each plan; Enterprise takes PlanChanged's RPM/TPM
// (and Business's defaults until it has them).
var planLimits = map[domain.Plan][2]int64{
	domain.PlanStarter:    {10, 100_000},
	domain.PlanBusiness:   {100, 1_000_000},
	domain.PlanEnterprise: {100, 1_000_000},
}

// KeyInfo is what the gateway knows of an API key on each request.
// Models is shared: read it, never modify it.
type KeyInfo struct {
	KeyID       string
	AccountID   string
	Name        string
	Prefix      string
	Plan        domain.Plan
	RPM         int64
	TPM         int64
	Models      []string // empty: every model
	SpendLimit  decimal.Decimal
	SpendPeriod string // daily, weekly or monthly
	Revoked     bool
	Suspended   bool // the account is suspended
}

type keyAccount struct {
	plan      domain.Plan
	rpm, tpm  int64
	suspended bool
}

type keyEntry struct {
	id, account, hash, name, prefix string
	models                          []string
	spendLimit                      decimal.Decimal
	spendPeriod                     string
	revoked                         bool
	acct                            *keyAccount
}

// Keys is the key projection: key hash → key, account and plan, for the
// gateway's authentication on every request.
type Keys struct {
	memCheckpoint
	mu        sync.RWMutex
	byHash    map[string]*keyEntry
	byID      map[string]*keyEntry
	byAccount map[string][]*keyEntry
	accounts  map[string]*keyAccount
}

var _ Projection = (*Keys)(nil)

// NewKeys returns an empty key model.
func NewKeys() *Keys {
	return &Keys{
		byHash: map[string]*keyEntry{}, byID: map[string]*keyEntry{},
		byAccount: map[string][]*keyEntry{}, accounts: map[string]*keyAccount{},
	}
}

// Name implements Projection.
func (k *Keys) Name() string { return "keys" }

// Lookup finds a key by the hex SHA-256 of the full key.
func (k *Keys) Lookup(hash string) (KeyInfo, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	e, ok := k.byHash[hash]
	if !ok {
		return KeyInfo{}, false
	}
	return e.info(), true
}

// ByAccount lists an account's keys (revoked ones included), by key ID.
func (k *Keys) ByAccount(account string) []KeyInfo {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make([]KeyInfo, 0, len(k.byAccount[account]))
	for _, e := range k.byAccount[account] {
		out = append(out, e.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KeyID < out[j].KeyID })
	return out
}

// Len is the number of keys known.
func (k *Keys) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.byHash)
}

func (e *keyEntry) info() KeyInfo {
	lim := planLimits[e.acct.plan]
	if e.acct.rpm > 0 {
		lim[0] = e.acct.rpm
	}
	if e.acct.tpm > 0 {
		lim[1] = e.acct.tpm
	}
	return KeyInfo{
		KeyID: e.id, AccountID: e.account, Name: e.name, Prefix: e.prefix,
		Plan: e.acct.plan, RPM: lim[0], TPM: lim[1], Models: e.models,
		SpendLimit: e.spendLimit, SpendPeriod: e.spendPeriod,
		Revoked: e.revoked, Suspended: e.acct.suspended,
	}
}

func (k *Keys) account(id string) *keyAccount {
	a, ok := k.accounts[id]
	if !ok {
		a = &keyAccount{plan: domain.PlanStarter}
		k.accounts[id] = a
	}
	return a
}

// Apply implements Projection. The write lock is taken per relevant event,
// so lookups never wait behind a whole batch.
func (k *Keys) Apply(_ context.Context, batch []Event) error {
	batch = k.fresh(batch)
	for i := range batch {
		e := &batch[i]
		switch b := e.Body.(type) {
		case *domain.AccountOpened:
			k.mu.Lock()
			a := k.account(b.AccountID)
			a.plan = b.Plan
			k.mu.Unlock()
		case *domain.PlanChanged:
			k.mu.Lock()
			a := k.account(b.AccountID)
			a.plan, a.rpm, a.tpm = b.Plan, b.RPM, b.TPM
			k.mu.Unlock()
		case *domain.AccountSuspended:
			k.mu.Lock()
			k.account(b.AccountID).suspended = true
			k.mu.Unlock()
		case *domain.KeyIssued:
			period := b.SpendPeriod
			if period == "" {
				period = PeriodMonthly
			}
			k.mu.Lock()
			ke := &keyEntry{
				id: b.KeyID, account: b.AccountID, hash: b.Hash, name: b.Name, prefix: b.Prefix,
				models: b.Models, spendLimit: b.SpendLimit, spendPeriod: period, acct: k.account(b.AccountID),
			}
			if old, ok := k.byID[b.KeyID]; ok { // reissued: the new hash replaces the old
				delete(k.byHash, old.hash)
				k.removeFromAccount(old)
			}
			k.byHash[b.Hash] = ke
			k.byID[b.KeyID] = ke
			k.byAccount[b.AccountID] = append(k.byAccount[b.AccountID], ke)
			k.mu.Unlock()
		case *domain.KeyRevoked:
			k.mu.Lock()
			if ke, ok := k.byID[b.KeyID]; ok {
				ke.revoked = true
			}
			k.mu.Unlock()
		default:
			if e.Err != nil && isKeyType(e.Type) {
				k.done(batch[:i]) // what came before is applied: do not apply it twice
				return e.Err
			}
		}
	}
	k.done(batch)
	return nil
}

func (k *Keys) removeFromAccount(old *keyEntry) {
	list := k.byAccount[old.account]
	for i, e := range list {
		if e == old {
			k.byAccount[old.account] = append(list[:i:i], list[i+1:]...)
			return
		}
	}
}

func isKeyType(t string) bool {
	switch t {
	case domain.TypeAccountOpened, domain.TypePlanChanged, domain.TypeAccountSuspended, domain.TypeKeyIssued, domain.TypeKeyRevoked:
		return true
	}
	return false
}
