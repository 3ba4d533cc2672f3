package commands

import (
	"container/list"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DefaultKeySlotCacheSlots bounds what a KeySlotCache holds, counted in
// slots (an account's live keys and the keys it made in the last hour,
// one more for the account): some 40 MB, thousands of ordinary accounts
// or a hundred at the default cap of live keys.
const DefaultKeySlotCacheSlots = 100_000

// KeySlotCache keeps accounts' key-slot streams folded between issues,
// each at the version it was folded at, so that an issue reads only the
// slot events appended since, by this process or any other, and not the
// whole stream, which grows by two events with each key made and revoked.
// The append that follows a decision still expects that version: the
// cache saves reads, never a check. It holds at most its bound of slots,
// dropping the accounts least recently used first, whose streams are read
// whole again on their next issue. Handlers on one store may share one.
type KeySlotCache struct {
	mu      sync.Mutex
	bound   int
	held    int                      // slots held, by cachedSlots.size
	order   *list.List               // *cachedSlots, most recently used first
	entries map[string]*list.Element // by account
}

// NewKeySlotCache returns a cache holding at most bound slots.
func NewKeySlotCache(bound int) *KeySlotCache {
	return &KeySlotCache{bound: bound, order: list.New(), entries: map[string]*list.Element{}}
}

// cachedSlots is an account's key slots folded up to slots.last, whose
// event has the ID lastID, with slots.made holding the keys made after
// cutoff: good for any read whose cutoff is not earlier.
type cachedSlots struct {
	acct   string
	slots  keySlots
	cutoff time.Time
	lastID uuid.UUID
}

func (c *cachedSlots) size() int { return len(c.slots.live) + len(c.slots.made) + 1 }

// clone copies s, so that a reader's changes (readCountedSlots's repairs)
// never reach the cache, nor later folds a reader's copy.
func (s keySlots) clone() keySlots {
	return keySlots{live: maps.Clone(s.live), taken: maps.Clone(s.taken), made: slices.Clone(s.made), last: s.last}
}

// get returns a copy of acct's slots if they are held and good for a read
// with cutoff (a clock set back since would count keys they dropped).
func (c *KeySlotCache) get(acct string, cutoff time.Time) (cachedSlots, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[acct]
	if !ok {
		return cachedSlots{}, false
	}
	held := el.Value.(*cachedSlots)
	if held.cutoff.After(cutoff) {
		return cachedSlots{}, false
	}
	c.order.MoveToFront(el)
	got := *held
	got.slots = held.slots.clone()
	return got, true
}

// put keeps a copy of s, unless the cache holds acct's slots at a later
// version already, and drops the least recently used accounts past the
// bound. Slots larger than the bound alone are not kept.
func (c *KeySlotCache) put(s cachedSlots) {
	s.slots = s.slots.clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[s.acct]; ok {
		held := el.Value.(*cachedSlots)
		if held.slots.last > s.slots.last {
			return
		}
		c.remove(el)
	}
	if s.size() > c.bound {
		return
	}
	c.entries[s.acct] = c.order.PushFront(&s)
	c.held += s.size()
	for c.held > c.bound {
		c.remove(c.order.Back())
	}
}

func (c *KeySlotCache) remove(el *list.Element) {
	s := c.order.Remove(el).(*cachedSlots)
	delete(c.entries, s.acct)
	c.held -= s.size()
}

// keySlotCacheInit guards handlers' caches made on first use.
var keySlotCacheInit sync.Mutex

// SlotCache is the handler's KeySlots, made on first use when none was
// given: handlers made for one request share a long-lived handler's.
func (h *Handler) SlotCache() *KeySlotCache {
	keySlotCacheInit.Lock()
	defer keySlotCacheInit.Unlock()
	if h.KeySlots == nil {
		h.KeySlots = NewKeySlotCache(DefaultKeySlotCacheSlots)
	}
	return h.KeySlots
}
