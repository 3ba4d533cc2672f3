package projections

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"time"

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
	SpendPeriod string // daily, weekly, monthly or never
	Revoked     bool
	Disabled    bool // until enabled again (revoking is final)
	// Disables counts the times the key was disabled: a console session
	// signed in with the key ends once it changes, so enabling the key
	// again does not bring back the sessions its disabling ended. It wraps
	// only after 2^29 disables (keyState), never within a session.
	Disables   uint32
	Suspended  bool      // the account is suspended
	Management bool      // manages the account's keys, calls no model (domain.KeyWithin)
	ExpiresAt  time.Time // zero: the key never expires
}

// Expired reports whether the key has expired at now.
func (k KeyInfo) Expired(now time.Time) bool {
	return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)
}

// keyEntry is one key. Its account's plan, limits and suspension are read
// from the shared directory when the key is looked up.
type keyEntry struct {
	id, account, prefix string
	limits              *keyLimits // nil: every model, no spending limit, monthly
	hash                [32]byte   // the hash's bytes, when it is lowercase hex (see sumOf)
	state               keyState   // revoked, disabled, management and the count of disables
	name                uint32     // the key's name, an index in Keys.names: 112 bytes a key where a string made 128
	nextOfAccount       *keyEntry  // the account's keys form a list
	samePrefix          *keyEntry  // the next key whose hash starts alike (Keys.byHash)
}

// keyState packs a key's flags and its count of disables in one word, so
// that a key stays 112 bytes: the count takes the 29 bits above the flags
// and wraps after 2^29 disables (one a second for 17 years), where 8 bits
// wrapped after 256, reviving console sessions a disable had ended.
type keyState uint32

const (
	keyRevoked keyState = 1 << iota
	keyDisabled
	keyManagement
	keyCounted // one disable: the count's lowest bit
)

func (s keyState) is(flag keyState) bool { return s&flag != 0 }

func (s *keyState) set(flag keyState, on bool) {
	if on {
		*s |= flag
	} else {
		*s &^= flag
	}
}

// disables is the count of times the key was disabled.
func (s keyState) disables() uint32 { return uint32(s / keyCounted) }

// keyLimits are the restrictions most keys do without.
type keyLimits struct {
	models      []string
	spendLimit  Amount
	spendPeriod string
	expires     int64 // unix seconds; 0: never
}

// limitsOf returns a key's restrictions, nil when it has none.
func limitsOf(b *domain.KeyIssued) *keyLimits {
	l := keyLimits{models: b.Models, spendLimit: AmountOf(b.SpendLimit), spendPeriod: spendPeriod(b.SpendPeriod)}
	if b.ExpiresAt != nil {
		l.expires = b.ExpiresAt.Unix()
	}
	if len(l.models) == 0 && l.spendLimit == (Amount{}) && l.spendPeriod == PeriodMonthly && l.expires == 0 {
		return nil
	}
	return &l
}

// withExpiry returns a key's restrictions with a new expiry (nil: never),
// keeping its models and spending terms; nil when it is left with none.
func withExpiry(l *keyLimits, at *time.Time) *keyLimits {
	kept := domain.KeyIssued{ExpiresAt: at}
	if l != nil {
		kept.Models, kept.SpendLimit, kept.SpendPeriod = l.models, l.spendLimit.Decimal(), l.spendPeriod
	}
	return limitsOf(&kept)
}

// sumOf decodes a lowercase hex SHA-256, the form the commands store: the
// key model indexes those by their 32 bytes rather than by 64 characters.
// Any other string is not one (and is indexed as it is), so that exactly
// the same strings match as before.
func sumOf(s string) (sum [32]byte, ok bool) {
	if len(s) != 2*len(sum) {
		return sum, false
	}
	// Decoded in place: converting s to []byte would allocate on every
	// request's key lookup.
	for i := range sum {
		hi, ok1 := lowerHex(s[2*i])
		lo, ok2 := lowerHex(s[2*i+1])
		if !ok1 || !ok2 {
			return sum, false
		}
		sum[i] = hi<<4 | lo
	}
	return sum, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// Keys is the key projection: key hash → key, account and plan, for the
// gateway's authentication on every request.
type Keys struct {
	memCheckpoint
	accounts *Accounts // written by the Balances projection
	mu       sync.RWMutex
	// byHash indexes keys by the first 8 bytes of their SHA-256, chaining
	// through samePrefix the (astronomically rare) keys that share them: a
	// slot takes 16 bytes where one keyed by the whole hash took 40.
	byHash    map[uint64]*keyEntry
	hashed    int                  // keys in byHash
	byOddHash map[string]*keyEntry // hashes that are not lowercase hex SHA-256
	byID      map[string]*keyEntry
	byAccount map[string]*keyEntry // the head of each account's list
	names     strTable             // each key name once (names like "prod" repeat)
}

var _ Projection = (*Keys)(nil)

// NewKeys returns an empty key model on a directory of its own, which no
// projection writes: every account is on the starter plan. NewModels pairs
// the key model with the directory its Balances writes.
func NewKeys() *Keys { return newKeys(NewAccounts()) }

func newKeys(accounts *Accounts) *Keys {
	return &Keys{accounts: accounts, byHash: map[uint64]*keyEntry{}, byOddHash: map[string]*keyEntry{},
		byID: map[string]*keyEntry{}, byAccount: map[string]*keyEntry{}}
}

// Name implements Projection.
func (k *Keys) Name() string { return "keys" }

// Lookup finds a key by the hex SHA-256 of the full key.
func (k *Keys) Lookup(hash string) (KeyInfo, bool) {
	return k.find(func() *keyEntry {
		if sum, isSum := sumOf(hash); isSum {
			return k.findHash(&sum)
		}
		return k.byOddHash[hash]
	})
}

// Get finds a key by its ID.
func (k *Keys) Get(id string) (KeyInfo, bool) {
	return k.find(func() *keyEntry { return k.byID[id] })
}

// find returns the key entry's info, completed with its account's, from
// the entry that lookup finds under the read lock.
func (k *Keys) find(lookup func() *keyEntry) (KeyInfo, bool) {
	k.mu.RLock()
	e := lookup()
	var info KeyInfo
	if e != nil {
		info = k.info(e)
	}
	k.mu.RUnlock()
	if e == nil {
		return KeyInfo{}, false
	}
	k.withAccount(&info)
	return info, true
}

// ByAccount lists an account's keys (revoked ones included) in the order of issue.
func (k *Keys) ByAccount(account string) []KeyInfo {
	k.mu.RLock()
	var out []KeyInfo
	for e := k.byAccount[account]; e != nil; e = e.nextOfAccount {
		out = append(out, k.info(e))
	}
	k.mu.RUnlock()
	if out == nil {
		out = []KeyInfo{}
	}
	// The list holds the newest first: the order of issue is its reverse,
	// stable while keys are added (a page read by offset stays put).
	slices.Reverse(out)
	for i := range out {
		k.withAccount(&out[i])
	}
	return out
}

// Len is the number of keys known.
func (k *Keys) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.hashed + len(k.byOddHash)
}

// info is the key's own part of its KeyInfo; k.mu is held.
func (k *Keys) info(e *keyEntry) KeyInfo {
	info := KeyInfo{KeyID: e.id, AccountID: e.account, Name: k.names.at(e.name), Prefix: e.prefix, SpendPeriod: PeriodMonthly, Revoked: e.state.is(keyRevoked),
		Disabled: e.state.is(keyDisabled), Disables: e.state.disables(), Management: e.state.is(keyManagement)}
	if l := e.limits; l != nil {
		info.Models, info.SpendLimit, info.SpendPeriod = l.models, l.spendLimit.Decimal(), l.spendPeriod
		if l.expires != 0 {
			info.ExpiresAt = time.Unix(l.expires, 0).UTC()
		}
	}
	return info
}

// withAccount completes a KeyInfo with its account's plan and limits.
func (k *Keys) withAccount(info *KeyInfo) {
	plan, rpm, tpm, suspended := k.accounts.limits(info.AccountID)
	lim := planLimits[plan]
	if rpm > 0 {
		lim[0] = rpm
	}
	if tpm > 0 {
		lim[1] = tpm
	}
	info.Plan, info.RPM, info.TPM, info.Suspended = plan, lim[0], lim[1], suspended
}

// Apply implements Projection. The write lock is taken per relevant event,
// so lookups never wait behind a whole batch. Account events are the
// directory's, folded by the Balances projection.
func (k *Keys) Apply(_ context.Context, batch []Event) error {
	batch = k.fresh(batch)
	for i := range batch {
		e := &batch[i]
		switch b := e.Body.(type) {
		case *domain.KeyIssued:
			ke := &keyEntry{id: b.KeyID, account: b.AccountID, prefix: b.Prefix, limits: limitsOf(b)}
			ke.state.set(keyManagement, b.Management)
			sum, isSum := sumOf(b.Hash)
			k.mu.Lock()
			ke.name = k.names.index(b.Name)
			if old, ok := k.byID[b.KeyID]; ok { // reissued: the new hash replaces the old
				k.removeHash(old)
				k.removeFromAccount(old)
			}
			if isSum {
				ke.hash = sum
				k.indexHash(ke)
			} else {
				k.byOddHash[b.Hash] = ke
			}
			k.byID[b.KeyID] = ke
			k.addToAccount(ke)
			k.mu.Unlock()
		case *domain.KeyChanged:
			k.mu.Lock()
			if ke, ok := k.byID[b.KeyID]; ok {
				// A change names the spending terms; the models and the
				// expiry stay the key's.
				kept := domain.KeyIssued{SpendLimit: b.SpendLimit, SpendPeriod: b.SpendPeriod}
				if ke.limits != nil {
					kept.Models = ke.limits.models
					if ke.limits.expires != 0 {
						at := time.Unix(ke.limits.expires, 0).UTC()
						kept.ExpiresAt = &at
					}
				}
				ke.name = k.names.index(b.Name)
				ke.limits = limitsOf(&kept)
			}
			k.mu.Unlock()
		case *domain.KeyExpiryChanged:
			k.mu.Lock()
			if ke, ok := k.byID[b.KeyID]; ok {
				ke.limits = withExpiry(ke.limits, b.ExpiresAt)
			}
			k.mu.Unlock()
		case *domain.KeyRevoked:
			k.mu.Lock()
			if ke, ok := k.byID[b.KeyID]; ok {
				ke.state.set(keyRevoked, true)
			}
			k.mu.Unlock()
		case *domain.KeyDisabled:
			k.setDisabled(b.KeyID, true)
		case *domain.KeyEnabled:
			k.setDisabled(b.KeyID, false)
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

func hashPrefix(sum *[32]byte) uint64 { return binary.LittleEndian.Uint64(sum[:8]) }

// findHash returns the key of a SHA-256; k.mu is held.
func (k *Keys) findHash(sum *[32]byte) *keyEntry {
	for e := k.byHash[hashPrefix(sum)]; e != nil; e = e.samePrefix {
		if e.hash == *sum {
			return e
		}
	}
	return nil
}

// indexHash makes ke the key of its hash, in place of any other key with
// the same hash (the later issue wins, as it always has); k.mu is held.
func (k *Keys) indexHash(ke *keyEntry) {
	if old := k.findHash(&ke.hash); old != nil {
		k.unindexHash(old)
	}
	p := hashPrefix(&ke.hash)
	ke.samePrefix = k.byHash[p]
	k.byHash[p] = ke
	k.hashed++
}

// unindexHash drops ke from byHash, reporting whether it was there; k.mu
// is held.
func (k *Keys) unindexHash(ke *keyEntry) bool {
	p := hashPrefix(&ke.hash)
	for link := k.byHash[p]; link != nil; link = link.samePrefix {
		if link == ke { // the head
			if ke.samePrefix == nil {
				delete(k.byHash, p)
			} else {
				k.byHash[p] = ke.samePrefix
			}
		} else if link.samePrefix == ke {
			link.samePrefix = ke.samePrefix
		} else {
			continue
		}
		ke.samePrefix = nil
		k.hashed--
		return true
	}
	return false
}

// removeHash drops a key from the hash index.
func (k *Keys) removeHash(old *keyEntry) {
	if k.unindexHash(old) {
		return
	}
	for h, e := range k.byOddHash { // rare: only hashes of another form
		if e == old {
			delete(k.byOddHash, h)
			return
		}
	}
}

// addToAccount puts a key at the head of its account's list (ByAccount
// gives them in the order of issue).
func (k *Keys) addToAccount(ke *keyEntry) {
	ke.nextOfAccount = k.byAccount[ke.account]
	k.byAccount[ke.account] = ke
}

func (k *Keys) removeFromAccount(old *keyEntry) {
	link := k.byAccount[old.account]
	if link == old {
		if old.nextOfAccount == nil {
			delete(k.byAccount, old.account)
		} else {
			k.byAccount[old.account] = old.nextOfAccount
		}
		return
	}
	for ; link != nil; link = link.nextOfAccount {
		if link.nextOfAccount == old {
			link.nextOfAccount = old.nextOfAccount
			return
		}
	}
}

func (k *Keys) setDisabled(id string, disabled bool) {
	k.mu.Lock()
	if ke, ok := k.byID[id]; ok {
		if disabled && !ke.state.is(keyDisabled) {
			ke.state += keyCounted // one disable more
		}
		ke.state.set(keyDisabled, disabled)
	}
	k.mu.Unlock()
}

func isKeyType(t string) bool {
	switch t {
	case domain.TypeAccountOpened, domain.TypePlanChanged, domain.TypeAccountSuspended, domain.TypeAccountResumed, domain.TypeKeyIssued, domain.TypeKeyRevoked,
		domain.TypeKeyChanged, domain.TypeKeyDisabled, domain.TypeKeyEnabled, domain.TypeKeyExpiryChanged:
		return true
	}
	return false
}
