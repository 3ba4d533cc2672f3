package eventstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// ChainHash is the hash an event carries: SHA-256 over its predecessor's
// hash and every stored field of the event. Editing any stored field of any
// event breaks the chain from that event on.
func ChainHash(prev []byte, e *RecordedEvent) []byte {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field(prev)
	field([]byte(e.Stream))
	binary.BigEndian.PutUint64(n[:], e.Version)
	h.Write(n[:])
	field(e.ID[:])
	field([]byte(e.Type))
	binary.BigEndian.PutUint64(n[:], uint64(e.SchemaVersion))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.OccurredAt.UTC().UnixNano()))
	h.Write(n[:])
	field(e.Data)
	return h.Sum(nil)
}

// ChainBreak names the first event whose hash does not verify.
type ChainBreak struct {
	Position Position
	Stream   string
	Version  uint64
	Reason   string
}

func (b *ChainBreak) Error() string {
	return fmt.Sprintf("hash chain broken at position %s (%s@%d): %s", b.Position, b.Stream, b.Version, b.Reason)
}

// VerifyResult is the verdict of a full chain check.
type VerifyResult struct {
	Events uint64
	Head   []byte
	Last   Position
	Break  *ChainBreak // nil when the chain verifies
}

// UnreadableEventError is a stored event whose cells no longer hold what
// their columns do (a date typed over a timestamp's nanoseconds, a word
// over a version): it was edited by hand, and no reader can rebuild its
// fields, let alone its hash. A backend's read returns the events before
// it with this error, so that Verify names it as the first broken event.
type UnreadableEventError struct {
	Position Position
	Stream   string
	Version  uint64 // 0 when the version is what cannot be read
	Problem  string // the cell and what it holds
}

func (e *UnreadableEventError) Error() string {
	return fmt.Sprintf("event at position %s (%s@%d) cannot be read: %s: it was edited", e.Position, e.Stream, e.Version, e.Problem)
}

// StoredReader is a Reader that serves recent events from memory and can
// also read what its storage actually holds. Verify reads that way, so a
// check of the chain is a check of the file or database.
type StoredReader interface {
	ReadAllStored(ctx context.Context, from Position, max int) ([]RecordedEvent, error)
}

// ChainCheck follows the chain one event at a time, in global order, and
// names the first break as what it is: an edited event, an inserted one,
// two events swapped, or events deleted or moved before one.
type ChainCheck struct {
	Result     VerifyResult
	last       ChainBreak // the last event that verified (no Reason), by value: no allocation per event
	hasLast    bool
	before     []byte   // the hash of the event before last
	lastBefore Position // the position of the event before last
	// movedFrom is the predecessor hash of the event named by a break of
	// "deleted or moved", while the event after it may still show that
	// the two only swapped places.
	movedFrom []byte
}

// Next checks e, the event after the last one checked; it returns false
// once the chain is broken and nothing after can name the break better
// (Result.Break names where). After a break of "deleted or moved" it asks
// for one more event (returns true), which may show two swapped events.
func (c *ChainCheck) Next(e *RecordedEvent) bool {
	if c.Result.Break != nil {
		if c.movedFrom != nil {
			c.nameSwap(e)
		}
		return false
	}
	head := c.Result.Head
	brk := func(e *RecordedEvent, reason string) bool {
		c.Result.Break = &ChainBreak{e.Position, e.Stream, e.Version, reason}
		return false
	}
	switch {
	case bytes.Equal(e.PrevHash, head) && !bytes.Equal(e.Hash, ChainHash(head, e)):
		return brk(e, "content does not match its hash")
	case bytes.Equal(e.PrevHash, head):
	case !bytes.Equal(e.Hash, ChainHash(e.PrevHash, e)):
		return brk(e, "previous hash does not match its predecessor, and its fields do not match its hash: it was edited")
	case c.hasLast && bytes.Equal(e.PrevHash, c.before):
		// e was written right after the event before last: last is not of
		// the history; it was inserted (or moved there).
		c.Result.Events--
		c.Result.Head, c.Result.Last = c.before, c.lastBefore
		ins := c.last
		ins.Reason = fmt.Sprintf("inserted: the event after it (position %s, %s@%d) was written right after the event before it", e.Position, e.Stream, e.Version)
		c.Result.Break = &ins
		return false
	default:
		after := "the start of history"
		if c.hasLast {
			after = fmt.Sprintf("position %s", c.last.Position)
		}
		brk(e, fmt.Sprintf("previous hash does not match its predecessor: it was written after another event than %s; events before it were deleted or moved", after))
		c.movedFrom = bytes.Clone(e.PrevHash)
		return true
	}
	c.before, c.lastBefore = head, c.Result.Last
	c.last, c.hasLast = ChainBreak{Position: e.Position, Stream: e.Stream, Version: e.Version}, true
	c.Result.Events++
	c.Result.Head = e.Hash
	c.Result.Last = e.Position
	return true
}

// nameSwap names the break as two events out of order when f, the event
// after the one named, was written right after the last event that
// verified, and the one named right after f: the two swapped places.
func (c *ChainCheck) nameSwap(f *RecordedEvent) {
	movedFrom := c.movedFrom
	c.movedFrom = nil
	if !bytes.Equal(f.PrevHash, c.Result.Head) || !bytes.Equal(movedFrom, f.Hash) || !bytes.Equal(f.Hash, ChainHash(f.PrevHash, f)) {
		return
	}
	b := c.Result.Break
	after := "the start of history"
	if c.hasLast {
		after = fmt.Sprintf("position %s", c.last.Position)
	}
	b.Reason = fmt.Sprintf("events at positions %s and %s are out of order: the event at %s (%s@%d) was written right after %s, and the one at %s right after it; they were swapped",
		b.Position, f.Position, f.Position, f.Stream, f.Version, after, b.Position)
}

// unreadable names an event that cannot be read, right after the last
// one checked, as the break: the events before it verified.
func (c *ChainCheck) unreadable(e *UnreadableEventError) {
	if c.Result.Break != nil {
		return
	}
	c.Result.Break = &ChainBreak{Position: e.Position, Stream: e.Stream, Version: e.Version,
		Reason: fmt.Sprintf("its stored fields cannot be read (%s): it was edited", e.Problem)}
}

// Verify reads the whole history in global order and checks every link.
// progress, when set, is called after each batch with the count so far.
func Verify(ctx context.Context, r Reader, progress func(n uint64)) (VerifyResult, error) {
	var c ChainCheck
	pos := Start
	read := r.ReadAll
	if sr, ok := r.(StoredReader); ok {
		read = sr.ReadAllStored
	}
	for {
		evs, err := read(ctx, pos, 5000)
		var bad *UnreadableEventError
		if err != nil && !errors.As(err, &bad) {
			return c.Result, err
		}
		for i := range evs {
			if !c.Next(&evs[i]) {
				return c.Result, nil
			}
		}
		if bad != nil {
			c.unreadable(bad)
			return c.Result, nil
		}
		if len(evs) == 0 {
			return c.Result, nil
		}
		pos = evs[len(evs)-1].Position
		if progress != nil {
			progress(c.Result.Events)
		}
	}
}
