package admission

import (
	"context"
	"hash/maphash"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

const ledgerShards = 256

// MemoryLedger is the one-process Ledger: per-account state under sharded
// mutexes, in micro-NTD like the Redis one so both decide identically.
type MemoryLedger struct {
	opt    LedgerOptions
	seed   maphash.Seed
	shards [ledgerShards]ledgerShard
}

type ledgerShard struct {
	mu  sync.Mutex
	m   map[string]*memAccount
	ops int
	_   [40]byte
}

type memAccount struct {
	holds       map[string]memHold // by request id
	keyHeld     map[string]int64   // active holds per key
	held        int64              // Σ holds
	minDeadline int64              // earliest hold deadline (ms); MaxInt64 if none
	settled     []settledCost      // sorted by version
	lastUse     int64              // ms
}

type memHold struct {
	key             string
	micro, deadline int64
}

type settledCost struct {
	version, micro, at int64
	key, id            string
}

// NewMemoryLedger returns an empty in-memory ledger.
func NewMemoryLedger(o LedgerOptions) *MemoryLedger {
	l := &MemoryLedger{opt: o.withDefaults(), seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].m = make(map[string]*memAccount)
	}
	return l
}

func (l *MemoryLedger) nowMS() int64 { return l.opt.Clock().UnixMilli() }

func (l *MemoryLedger) shard(account string) *ledgerShard {
	return &l.shards[maphash.String(l.seed, account)%ledgerShards]
}

// lock returns the account's shard, locked, and its state (created if
// create is set, else possibly nil).
func (l *MemoryLedger) lock(account string, now int64, create bool) (*ledgerShard, *memAccount) {
	sh := l.shard(account)
	sh.mu.Lock()
	sh.sweep(now, l.opt.idleTTL().Milliseconds())
	a := sh.m[account]
	if a == nil && create {
		a = &memAccount{holds: make(map[string]memHold), keyHeld: make(map[string]int64), minDeadline: math.MaxInt64}
		sh.m[account] = a
	}
	if a != nil {
		a.lastUse = now
		a.expireHolds(now)
	}
	return sh, a
}

// Hold implements Ledger.
func (l *MemoryLedger) Hold(_ context.Context, account, key, requestID string, view AccountView, amount decimal.Decimal) (HoldResult, error) {
	in, err := newHoldInput(key, view, amount)
	if err != nil {
		return HoldResult{}, err
	}
	now := l.nowMS()
	sh, a := l.lock(account, now, true)
	if _, dup := a.holds[requestID]; dup {
		sh.mu.Unlock()
		return HoldResult{}, ErrDuplicateHold
	}
	a.trimSettled(in.applied, now-l.opt.SettledGrace.Milliseconds())
	settled, keySettled := a.unapplied(in.applied, key)
	out, h, avail := in.decide(a.held, a.keyHeld[key], settled, keySettled)
	if out == holdOK {
		a.holds[requestID] = memHold{key: key, micro: in.amount, deadline: now + l.opt.HoldTTL.Milliseconds()}
		a.held += in.amount
		a.keyHeld[key] += in.amount
		a.minDeadline = min(a.minDeadline, now+l.opt.HoldTTL.Milliseconds())
	}
	sh.mu.Unlock()
	return holdResult(out, view, amount, h, avail), nil
}

// Settle implements Ledger.
func (l *MemoryLedger) Settle(_ context.Context, account, key, requestID string, cost decimal.Decimal, usageVersion int64) error {
	if cost.Sign() < 0 || strings.IndexByte(key, '|') >= 0 {
		return ErrBadInput
	}
	micro, err := toMicro(cost, true)
	if err != nil {
		return err
	}
	now := l.nowMS()
	sh, a := l.lock(account, now, true)
	a.drop(requestID)
	a.addSettled(settledCost{version: usageVersion, micro: micro, at: now, key: key, id: requestID})
	sh.mu.Unlock()
	return nil
}

// Release implements Ledger. It reads no clock (time.Now is not free):
// expiry and idleness are Hold's and Held's business.
func (l *MemoryLedger) Release(_ context.Context, account, _, requestID string) error {
	sh := l.shard(account)
	sh.mu.Lock()
	if a := sh.m[account]; a != nil {
		a.drop(requestID)
	}
	sh.mu.Unlock()
	return nil
}

// Renew implements Ledger.
func (l *MemoryLedger) Renew(_ context.Context, account, requestID string) (bool, error) {
	now := l.nowMS()
	sh, a := l.lock(account, now, false)
	defer sh.mu.Unlock()
	if a == nil {
		return false, nil
	}
	h, ok := a.holds[requestID]
	if !ok {
		return false, nil
	}
	h.deadline = now + l.opt.HoldTTL.Milliseconds()
	a.holds[requestID] = h
	return true, nil
}

// HoldTTL implements Ledger.
func (l *MemoryLedger) HoldTTL() time.Duration { return l.opt.HoldTTL }

// Held implements Ledger.
func (l *MemoryLedger) Held(_ context.Context, account string) (decimal.Decimal, int, error) {
	sh, a := l.lock(account, l.nowMS(), false)
	var held int64
	var n int
	if a != nil {
		held, n = a.held, len(a.holds)
	}
	sh.mu.Unlock()
	return fromMicro(held), n, nil
}

func (a *memAccount) drop(requestID string) {
	h, ok := a.holds[requestID]
	if !ok {
		return
	}
	delete(a.holds, requestID)
	a.held -= h.micro
	if a.keyHeld[h.key] -= h.micro; a.keyHeld[h.key] == 0 {
		delete(a.keyHeld, h.key)
	}
}

// expireHolds drops holds past their deadline; it scans only when the
// earliest deadline has passed.
func (a *memAccount) expireHolds(now int64) {
	if now < a.minDeadline {
		return
	}
	a.minDeadline = math.MaxInt64
	for id, h := range a.holds {
		if h.deadline <= now {
			a.drop(id)
		} else {
			a.minDeadline = min(a.minDeadline, h.deadline)
		}
	}
}

// addSettled inserts c keeping versions sorted; settlements arrive nearly
// in version order, so the search lands at or near the end.
func (a *memAccount) addSettled(c settledCost) {
	i := len(a.settled)
	if i > 0 && a.settled[i-1].version > c.version {
		i = sort.Search(len(a.settled), func(j int) bool { return a.settled[j].version > c.version })
	}
	a.settled = append(a.settled, settledCost{})
	copy(a.settled[i+1:], a.settled[i:])
	a.settled[i] = c
}

// trimSettled forgets costs the view has applied that are older than the
// grace (see the package comment for why both conditions).
func (a *memAccount) trimSettled(applied, before int64) {
	n := 0
	for n < len(a.settled) && a.settled[n].version <= applied && a.settled[n].at < before {
		n++
	}
	if n > 0 {
		clear(a.settled[:n]) // let the strings go
		a.settled = a.settled[n:]
	}
}

// unapplied sums the settled costs with version > applied, and the key's.
func (a *memAccount) unapplied(applied int64, key string) (sum, keySum int64) {
	for i := len(a.settled) - 1; i >= 0 && a.settled[i].version > applied; i-- {
		sum += a.settled[i].micro
		if a.settled[i].key == key {
			keySum += a.settled[i].micro
		}
	}
	return sum, keySum
}

// sweep drops accounts idle for longer than idle ms, every so often.
func (sh *ledgerShard) sweep(now, idle int64) {
	sh.ops++
	if sh.ops < 1024 || sh.ops < len(sh.m) {
		return
	}
	sh.ops = 0
	for k, a := range sh.m {
		if now-a.lastUse > idle {
			delete(sh.m, k)
		}
	}
}

var _ Ledger = (*MemoryLedger)(nil)
var _ RateLimiter = (*MemoryLimiter)(nil)
var _ RateLimiter = (*RedisLimiter)(nil)
