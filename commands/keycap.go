package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// ErrKeyCap refuses a key past its account's cap of live keys.
var ErrKeyCap = errors.New("too many keys")

// DefaultMaxKeysPerAccount is an account's cap of live keys unless the
// operator sets another. Every key is held in memory by every gateway, and
// a thousand is far more than a team's services and people use, while
// 100,000 accounts at it would still be bounded.
const DefaultMaxKeysPerAccount = 1000

func (h *Handler) maxKeys() int {
	if h.MaxKeysPerAccount > 0 {
		return h.MaxKeysPerAccount
	}
	return DefaultMaxKeysPerAccount
}

// ErrKeyRate refuses a key past its account's bound on keys made in an
// hour (KeyRateError says when the next can be made).
var ErrKeyRate = errors.New("too many keys made")

// DefaultMaxNewKeysPerHour is how many keys an account's own keys and
// people may make in any hour unless the operator sets another. Revoking
// a key gives back its place under the cap of live keys, not this: a key
// made and deleted in a loop would otherwise add events to history, and a
// revoked key to every gateway's memory, without end.
const DefaultMaxNewKeysPerHour = 100

// keyRateWindow is the sliding window of MaxNewKeysPerHour.
const keyRateWindow = time.Hour

func (h *Handler) maxNewKeys() int {
	if h.MaxNewKeysPerHour > 0 {
		return h.MaxNewKeysPerHour
	}
	return DefaultMaxNewKeysPerHour
}

// KeyRateError is ErrKeyRate for an account that made Made keys in the
// hour before Now, the most it may (Max): the next can be made at Next.
type KeyRateError struct {
	AccountID string
	Made, Max int
	Now, Next time.Time
}

func (e *KeyRateError) Error() string {
	return fmt.Sprintf("%v: account %s made %d keys in the last hour and an account may make at most %d an hour: the next key can be made at %s (in %d seconds); ask the operator to raise the bound (--max-new-keys-per-hour, ROUTEFREE_MAX_NEW_KEYS_PER_HOUR) if it needs more",
		ErrKeyRate, e.AccountID, e.Made, e.Max, e.Next.UTC().Format(time.RFC3339), e.RetryAfterSeconds())
}

func (e *KeyRateError) Unwrap() error { return ErrKeyRate }

// RetryAfterSeconds is the wait until Next in whole seconds, rounded up,
// at least one.
func (e *KeyRateError) RetryAfterSeconds() int64 {
	d := e.Next.Sub(e.Now)
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return max(s, 1)
}

// boundByKeyRate reports whether keys made under ctx are bound by (and
// count towards) MaxNewKeysPerHour: those the account's own keys and
// people make. Staff, the CLI and the gateway's own work are not.
func boundByKeyRate(a domain.Actor) bool {
	return a.Kind == domain.ActorKey || a.Kind == domain.ActorMember
}

// withinKeyRate refuses a key made under ctx past the account's bound on
// keys made in an hour, counted from the slots taken for new keys in the
// account's key-slot stream (keySlots.made), so that gateways on one
// store share it.
func (h *Handler) withinKeyRate(ctx context.Context, slots keySlots, acct string) error {
	if !boundByKeyRate(domain.ActorFrom(ctx)) {
		return nil
	}
	now := h.Now()
	cutoff := now.Add(-keyRateWindow)
	made := slices.DeleteFunc(slices.Clone(slots.made), func(at time.Time) bool { return !at.After(cutoff) })
	limit := h.maxNewKeys()
	if len(made) < limit {
		return nil
	}
	slices.SortFunc(made, func(a, b time.Time) int { return a.Compare(b) })
	// Once the oldest len(made)-limit+1 keys are an hour old, one more fits.
	return &KeyRateError{AccountID: acct, Made: len(made), Max: limit, Now: now, Next: made[len(made)-limit].Add(keyRateWindow)}
}

// slotGrace is how long a slot taken for a key not yet recorded still
// counts: far longer than an issue takes between taking the slot and
// recording the key, so only a slot whose issue stopped between the two
// (its process died, or the store refused the key) outlives it.
const slotGrace = time.Minute

// reasonUnissued says why a slot is freed whose key was never recorded.
const reasonUnissued = "key never issued: its issue stopped after the slot was taken"

// keySlots is an account's key-slot stream folded: the keys holding a
// slot, each as its slot was last taken and when, when the keys the
// account's own keys and people made in the last keyRateWindow took their
// slots (boundByKeyRate), and the stream's last version (-1: not yet
// written).
type keySlots struct {
	live  map[string]domain.KeySlotTaken
	taken map[string]time.Time
	made  []time.Time
	last  int64
}

// readKeySlots folds acct's key-slot stream, going on from the fold the
// handler's KeySlotCache holds: only the events appended since are read.
func (h *Handler) readKeySlots(ctx context.Context, acct string) (keySlots, error) {
	cutoff := h.Now().Add(-keyRateWindow)
	cache := h.SlotCache()
	held, ok := cache.get(acct, cutoff)
	if !ok {
		held = cachedSlots{acct: acct, slots: newKeySlots()}
	}
	s, err := h.foldKeySlots(ctx, held, cutoff)
	if errors.Is(err, errSlotsMoved) {
		s, err = h.foldKeySlots(ctx, cachedSlots{acct: acct, slots: newKeySlots()}, cutoff)
	}
	if err != nil {
		return keySlots{}, err
	}
	if s.slots.last >= 0 {
		cache.put(s)
	}
	return s.slots, nil
}

func newKeySlots() keySlots {
	return keySlots{live: map[string]domain.KeySlotTaken{}, taken: map[string]time.Time{}, last: -1}
}

// errSlotsMoved says a held fold is not of the stream read: the event at
// its version is another (another store, or one put back from a copy).
var errSlotsMoved = errors.New("key slots held are not the stream's")

// foldKeySlots folds the events of c's stream after c's version into c,
// keeping in made the keys made after cutoff. The event at c's version is
// read again, and must be the one folded (errSlotsMoved).
func (h *Handler) foldKeySlots(ctx context.Context, c cachedSlots, cutoff time.Time) (cachedSlots, error) {
	check := c.slots.last >= 0
	from := uint64(max(c.slots.last, 0))
	err := h.scanStreamFrom(ctx, domain.KeySlotsStream(c.acct), from, func(e eventstore.RecordedEvent) (bool, error) {
		if check {
			check = false
			if e.ID != c.lastID {
				return false, errSlotsMoved
			}
			return true, nil
		}
		c.lastID = e.ID
		return true, c.slots.fold(e, cutoff)
	})
	if err == nil && check {
		err = errSlotsMoved // the stream no longer reaches c's version
	}
	c.slots.made = slices.DeleteFunc(c.slots.made, func(at time.Time) bool { return !at.After(cutoff) })
	c.cutoff = cutoff
	return c, err
}

// fold applies one event of the key-slot stream, counting a slot taken
// for a new key after cutoff in made.
func (s *keySlots) fold(e eventstore.RecordedEvent, cutoff time.Time) error {
	d, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	switch v := d.(type) {
	case *domain.KeySlotTaken:
		// A new key's slot: not held (a raise takes a held one again),
		// nor taken for a key issued before slots were kept (its event
		// ID is the key's: decideSlots).
		_, held := s.live[v.KeyID]
		if !held && boundByKeyRate(v.Actor) && e.OccurredAt.After(cutoff) && e.ID != domain.EventID(domain.TypeKeySlotTaken, v.KeyID) {
			s.made = append(s.made, e.OccurredAt)
		}
		s.live[v.KeyID] = *v
		if _, ok := s.taken[v.KeyID]; !ok {
			s.taken[v.KeyID] = e.OccurredAt // first taken: when its issue began
		}
	case *domain.KeySlotFreed:
		delete(s.live, v.KeyID)
		delete(s.taken, v.KeyID)
	}
	s.last = int64(e.Version)
	return nil
}

// liveKeysOf lists an account's keys that are not revoked, for an account
// whose key slots were never written: keys issued before slots were kept.
func (h *Handler) liveKeysOf(ctx context.Context, acct string) ([]string, error) {
	if h.LiveKeys != nil {
		return h.LiveKeys(acct), nil
	}
	var ids []string
	revoked := map[string]bool{}
	err := h.walkHistory(ctx, func(_ *eventstore.RecordedEvent, d domain.Event) {
		switch v := d.(type) {
		case *domain.KeyIssued:
			if v.AccountID == acct {
				ids = append(ids, v.KeyID)
			}
		case *domain.KeyRevoked:
			revoked[v.KeyID] = true
		}
	}, domain.TypeKeyIssued, domain.TypeKeyRevoked)
	live := ids[:0]
	for _, id := range ids {
		if !revoked[id] {
			live = append(live, id)
		}
	}
	return live, err
}

// unissued lists the slots of acct whose keys were never recorded and
// were taken longer than slotGrace ago: issues that stopped between taking
// the slot and recording the key, whose slots no longer count. A key the
// read model lists was recorded; any other, the read model perhaps behind
// it, is looked up in its own stream.
func (h *Handler) unissued(ctx context.Context, acct string, slots keySlots) ([]string, error) {
	cutoff := h.Now().Add(-slotGrace)
	var listed map[string]bool
	var ids []string
	for id := range slots.live {
		if at, ok := slots.taken[id]; ok && at.After(cutoff) {
			continue
		}
		if listed == nil && h.LiveKeys != nil {
			listed = map[string]bool{}
			for _, k := range h.LiveKeys(acct) {
				listed[k] = true
			}
		}
		if listed[id] {
			continue
		}
		_, err := h.Key(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			ids = append(ids, id)
		case err != nil:
			return nil, err
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// readCountedSlots reads acct's key slots as they count: an account whose
// slots were never written has one taken for each of its live keys, and
// slots whose keys were never issued (unissued) count no more. It returns
// the slot events that would make the stream say so.
func (h *Handler) readCountedSlots(ctx context.Context, acct string) (keySlots, []domain.Event, error) {
	slots, err := h.readKeySlots(ctx, acct)
	if err != nil {
		return slots, nil, err
	}
	var repair []domain.Event
	if slots.last < 0 {
		older, err := h.liveKeysOf(ctx, acct)
		if err != nil {
			return slots, nil, err
		}
		for _, id := range older {
			e := &domain.KeySlotTaken{AccountID: acct, KeyID: id}
			slots.live[id] = *e
			slots.taken[id] = h.Now()
			repair = append(repair, e)
		}
	}
	stale, err := h.unissued(ctx, acct, slots)
	if err != nil {
		return slots, nil, err
	}
	for _, id := range stale {
		delete(slots.live, id)
		delete(slots.taken, id)
		repair = append(repair, &domain.KeySlotFreed{AccountID: acct, KeyID: id, Reason: reasonUnissued})
	}
	return slots, repair, nil
}

// decideSlots reads acct's key slots, has decide say which slot events
// follow from them (none: nothing to write), and appends those at the
// version read: writers racing on one account's slots, in any processes,
// cannot both decide on the same state, and the one that loses gets
// ErrWrongExpectedVersion, to decide again. The slot events that make
// the stream count as readCountedSlots does (slots taken for an account's
// keys from before slots were kept, slots freed whose keys were never
// issued) come first in the same append.
func (h *Handler) decideSlots(ctx context.Context, acct string, decide func(keySlots) ([]domain.Event, error)) error {
	slots, repair, err := h.readCountedSlots(ctx, acct)
	if err != nil {
		return err
	}
	var events []eventstore.EventData
	add := func(id uuid.UUID, e domain.Event) error {
		domain.Stamp(ctx, e)
		d, err := Event(id, h.Now(), e)
		events = append(events, d)
		return err
	}
	for _, e := range repair {
		id := uuid.New()
		if taken, ok := e.(*domain.KeySlotTaken); ok {
			id = domain.EventID(domain.TypeKeySlotTaken, taken.KeyID)
		}
		if err := add(id, e); err != nil {
			return err
		}
	}
	decided, err := decide(slots)
	if err != nil || len(decided) == 0 {
		return err
	}
	for _, e := range decided {
		if err := add(uuid.New(), e); err != nil {
			return err
		}
	}
	_, err = h.Store.Append(ctx, domain.KeySlotsStream(acct), expectAfter(slots.last), events...)
	return err
}

// takeKeySlot takes a slot of the account for k before k is recorded,
// refusing it past the account's cap, and, when a management key with a
// spending limit issues it, past that key's share (checkShare). A key
// whose slot is taken already (an issue tried again) takes none.
func (h *Handler) takeKeySlot(ctx context.Context, k domain.KeyIssued) error {
	parent, bound, err := h.managingKey(ctx)
	if err != nil {
		return err
	}
	defer streamLocks.lock(domain.KeySlotsStream(k.AccountID))()
	return decideAgain(ctx, func() error {
		return h.decideSlots(ctx, k.AccountID, func(slots keySlots) ([]domain.Event, error) {
			if _, ok := slots.live[k.KeyID]; ok {
				return nil, nil
			}
			if err := h.slotFor(ctx, slots, k, parent, bound); err != nil {
				return nil, err
			}
			return []domain.Event{&domain.KeySlotTaken{AccountID: k.AccountID, KeyID: k.KeyID, SpendLimit: k.SpendLimit, SpendPeriod: k.SpendPeriod}}, nil
		})
	})
}

// slotFor refuses k a slot past its account's cap, past its bound on keys
// made in an hour, or, when parent (bound) issues it, past parent's share.
func (h *Handler) slotFor(ctx context.Context, slots keySlots, k, parent domain.KeyIssued, bound bool) error {
	if max := h.maxKeys(); len(slots.live) >= max {
		return fmt.Errorf("%w: account %s has %d live keys and an account may have at most %d: revoke (delete) keys it no longer uses, or ask the operator to raise the cap (--max-keys-per-account, ROUTEFREE_MAX_KEYS_PER_ACCOUNT)",
			ErrKeyCap, k.AccountID, len(slots.live), max)
	}
	if err := h.withinKeyRate(ctx, slots, k.AccountID); err != nil {
		return err
	}
	if bound {
		return h.checkShare(ctx, parent, slots, k)
	}
	return nil
}

// CheckIssue says whether k could be issued under ctx now, writing
// nothing: the refusals of its account's cap, of its bound on keys made in
// an hour and of the issuing management key's share, for a step that
// promises a key issued later (an app's approval).
func (h *Handler) CheckIssue(ctx context.Context, k domain.KeyIssued) error {
	parent, bound, err := h.managingKey(ctx)
	if err != nil {
		return err
	}
	slots, _, err := h.readCountedSlots(ctx, k.AccountID)
	if err != nil {
		return err
	}
	return h.slotFor(ctx, slots, k, parent, bound)
}

// freeKeySlot gives back a revoked key's slot. An account whose slots were
// never written has none to give back: its first issue counts its keys.
func (h *Handler) freeKeySlot(ctx context.Context, acct, keyID string) error {
	e := &domain.KeySlotFreed{AccountID: acct, KeyID: keyID}
	_, err := h.append(ctx, domain.KeySlotsStream(acct), eventstore.StreamExists(), domain.EventID(domain.TypeKeySlotFreed, keyID), e)
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return nil
	}
	return err
}

// managingKey is the key acting under ctx when it is a management key
// with a spending limit (bound): the limits of the keys it makes share
// that one.
func (h *Handler) managingKey(ctx context.Context) (domain.KeyIssued, bool, error) {
	a := domain.ActorFrom(ctx)
	if a.Kind != domain.ActorKey || a.ID == "" {
		return domain.KeyIssued{}, false, nil
	}
	st, err := h.Key(ctx, a.ID)
	if errors.Is(err, ErrNotFound) {
		return domain.KeyIssued{}, false, nil
	}
	if err != nil {
		return domain.KeyIssued{}, false, err
	}
	return st.Key, st.Key.Management && st.Key.SpendLimit.IsPositive(), nil
}

// madeBy reports whether a key was issued by the management key parent.
func madeBy(k domain.KeyIssued, parent string) bool {
	return k.Actor.Kind == domain.ActorKey && k.Actor.ID == parent
}

// checkShare refuses k, a key parent makes or changes, when the spending
// limits of the live keys parent made, over parent's period, would add up
// to more than parent's own. A key's limit is its stream's (as changed
// since); that of a key whose slot is taken and which is not yet recorded,
// an issue under way, its slot's.
func (h *Handler) checkShare(ctx context.Context, parent domain.KeyIssued, slots keySlots, k domain.KeyIssued) error {
	period := domain.SpendPeriodOf(parent)
	if !k.SpendLimit.IsPositive() || !domain.SpendsWithin(period, k.SpendPeriod) {
		return nil // refused by the management key's own limits (domain.KeyWithin)
	}
	used := decimal.Zero
	for id, slot := range slots.live {
		if id == k.KeyID || id == parent.KeyID {
			continue
		}
		child := domain.KeyIssued{Actor: slot.Actor, SpendLimit: slot.SpendLimit, SpendPeriod: slot.SpendPeriod}
		st, err := h.Key(ctx, id)
		switch {
		case err == nil && st.Revoked:
			continue
		case err == nil:
			child = st.Key
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if madeBy(child, parent.KeyID) && child.SpendLimit.IsPositive() && domain.SpendsWithin(period, child.SpendPeriod) {
			used = used.Add(child.SpendLimit)
		}
	}
	if total := used.Add(k.SpendLimit); total.GreaterThan(parent.SpendLimit) {
		return fmt.Errorf("%w: the keys this key made have %s limits adding up to NT$%s of its own NT$%s, so NT$%s is left for another (NT$%s asked): lower or delete one of them first",
			domain.ErrKeyScope, periodWords(period), used.StringFixed(2), parent.SpendLimit.StringFixed(2), decimal.Max(parent.SpendLimit.Sub(used), decimal.Zero).StringFixed(2), k.SpendLimit.StringFixed(2))
	}
	return nil
}

// raiseWithinShare is changeKey's step for a limit raised by a
// management key with a spending limit on a key it made: the raise must
// fit its share (checkShare), decided at the version of the account's
// key slots, where the key's slot is taken again with its new limit, so
// that issues and raises racing from other processes decide again on it.
func (h *Handler) raiseWithinShare(ctx context.Context, before, after domain.KeyIssued) error {
	parent, bound, err := h.managingKey(ctx)
	// A key without a limit given one, or one lowered over its period, is
	// held tighter: only a higher limit, none, or another period is a raise.
	tighter := !before.SpendLimit.IsPositive() || after.SpendLimit.IsPositive() &&
		!after.SpendLimit.GreaterThan(before.SpendLimit) && domain.SpendPeriodOf(after) == domain.SpendPeriodOf(before)
	if err != nil || !bound || !madeBy(before, parent.KeyID) || tighter {
		return err
	}
	defer streamLocks.lock(domain.KeySlotsStream(after.AccountID))()
	return h.decideSlots(ctx, after.AccountID, func(slots keySlots) ([]domain.Event, error) {
		if _, ok := slots.live[after.KeyID]; !ok {
			return nil, fmt.Errorf("%w: key %s is revoked", ErrConflict, after.KeyID)
		}
		if err := h.checkShare(ctx, parent, slots, after); err != nil {
			return nil, err
		}
		return []domain.Event{&domain.KeySlotTaken{AccountID: after.AccountID, KeyID: after.KeyID, SpendLimit: after.SpendLimit, SpendPeriod: after.SpendPeriod}}, nil
	})
}

// periodWords is a spending period as a refusal reads it.
func periodWords(period string) string {
	if period == domain.SpendNever {
		return "never-resetting"
	}
	return period
}
