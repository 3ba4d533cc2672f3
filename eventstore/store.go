// Package eventstore is RouteFree's append-only history: one interface on
// KurrentDB's semantics (streams with expected versions, a global order,
// catch-up subscriptions), the group commit and the hash chain shared by every
// backend, and in storetest the contract suite each backend must pass.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
)

// Position is a place in the global order. Its meaning is the backend's
// (SQLite: rowid twice; PostgreSQL: transaction id and sequence; KurrentDB:
// commit and prepare), but positions compare the same way everywhere. Reads
// and subscriptions start after a position: it is exclusive.
type Position struct {
	Commit  uint64 `json:"commit"`
	Prepare uint64 `json:"prepare"`
}

// Start is the position before the first event.
var Start = Position{}

// Less orders positions.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

func (p Position) String() string { return fmt.Sprintf("%d/%d", p.Commit, p.Prepare) }

// ExpectedKind says what an append expects of its stream.
type ExpectedKind uint8

const (
	ExpectAny          ExpectedKind = iota // no check
	ExpectNoStream                         // the stream must not exist
	ExpectStreamExists                     // the stream must have an event
	ExpectExact                            // the stream's last version must equal Version
)

// ExpectedVersion guards an append whose decision depends on stream state.
type ExpectedVersion struct {
	Kind    ExpectedKind
	Version uint64 // for ExpectExact: the last event's 0-based version
}

// Any, NoStream, StreamExists and Exact build the four expectations.
func Any() ExpectedVersion           { return ExpectedVersion{Kind: ExpectAny} }
func NoStream() ExpectedVersion      { return ExpectedVersion{Kind: ExpectNoStream} }
func StreamExists() ExpectedVersion  { return ExpectedVersion{Kind: ExpectStreamExists} }
func Exact(v uint64) ExpectedVersion { return ExpectedVersion{Kind: ExpectExact, Version: v} }

// Check reports whether a stream whose last version is last (exists=false:
// no stream) meets the expectation.
func (e ExpectedVersion) Check(last uint64, exists bool) bool {
	switch e.Kind {
	case ExpectNoStream:
		return !exists
	case ExpectStreamExists:
		return exists
	case ExpectExact:
		return exists && last == e.Version
	}
	return true
}

func (e ExpectedVersion) String() string {
	switch e.Kind {
	case ExpectNoStream:
		return "no stream"
	case ExpectStreamExists:
		return "stream exists"
	case ExpectExact:
		return fmt.Sprintf("version %d", e.Version)
	}
	return "any"
}

// EventData is an event to append. ID deduplicates: an ID appended twice is
// stored once.
type EventData struct {
	ID            uuid.UUID
	Type          string
	SchemaVersion int
	OccurredAt    time.Time // UTC instant of the fact
	Data          []byte    // JSON body
}

// HasID reports whether one of events has ID id.
func HasID(events []EventData, id uuid.UUID) bool {
	for i := range events {
		if events[i].ID == id {
			return true
		}
	}
	return false
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	EventData
	Stream   string
	Version  uint64   // 0-based revision within the stream
	Position Position // place in the global order
	PrevHash []byte   // hash of the predecessor in the global order
	Hash     []byte   // ChainHash(PrevHash, this event)
}

// AppendResult tells where an append landed.
type AppendResult struct {
	// NextExpectedVersion is the stream's last version after the append.
	NextExpectedVersion uint64
	// Position is the global position of the append's last event.
	Position Position
	// Existing are the IDs of the append's events that were stored before
	// it, by an earlier append of this writer or another's: this append did
	// not write them. Empty when it wrote every event. Two writers that
	// append the same event at once both succeed; only the one whose
	// Existing lacks its ID stored it.
	Existing []uuid.UUID
}

// Errors shared by every backend.
var (
	ErrWrongExpectedVersion = errors.New("wrong expected version")
	ErrStreamNotFound       = errors.New("stream not found")
	ErrClosed               = errors.New("event store closed")
)

// WrongVersionError details a failed expectation; it matches
// ErrWrongExpectedVersion with errors.Is.
type WrongVersionError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   uint64
	Exists   bool
}

func (e *WrongVersionError) Error() string {
	actual := "no stream"
	if e.Exists {
		actual = fmt.Sprintf("version %d", e.Actual)
	}
	return fmt.Sprintf("wrong expected version on %s: expected %s, got %s", e.Stream, e.Expected, actual)
}

func (e *WrongVersionError) Is(target error) bool { return target == ErrWrongExpectedVersion }

// EventReader is implemented by stores that can fetch one event by its ID
// (SQLite and PostgreSQL index event IDs). ErrEventNotFound when absent.
type EventReader interface {
	ReadEvent(ctx context.Context, id uuid.UUID) (RecordedEvent, error)
}

// ErrEventNotFound is ReadEvent's answer for an unknown ID.
var ErrEventNotFound = errors.New("event not found")

// BackwardReader is implemented by stores that read the global order from
// its end through an index (SQLite and PostgreSQL): the newest events cost
// what is read of them, however long the history.
type BackwardReader interface {
	// ReadAllBackward returns up to max events before position before
	// (exclusive; End for the newest), newest first. What it sees is a
	// prefix of the global order, as ReadAll's is.
	ReadAllBackward(ctx context.Context, before Position, max int) ([]RecordedEvent, error)
	// CountThrough is the number of events at or before position through.
	CountThrough(ctx context.Context, through Position) (int, error)
}

// End is the position after every event, for ReadAllBackward.
var End = Position{Commit: math.MaxInt64, Prepare: math.MaxInt64}

// ErrNoBackwardRead is a wrapper's answer when its store is no
// BackwardReader.
var ErrNoBackwardRead = errors.New("eventstore: the store cannot read backward")

// TailReader is implemented by stores that can fetch their last committed
// event from an index (SQLite and PostgreSQL), without reading the history.
// ErrEventNotFound for an empty store.
type TailReader interface {
	LastEvent(ctx context.Context) (RecordedEvent, error)
}

// Store is the event store. Every backend implements it and passes the
// contract suite in storetest.
type Store interface {
	// Append adds events to one stream atomically. Concurrent appends share a
	// transaction (group commit); Append returns once its events are durable.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...EventData) (AppendResult, error)
	// ReadStream returns up to max events of a stream from version from on
	// (inclusive). A stream with no events gives ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string, from uint64, max int) ([]RecordedEvent, error)
	// ReadAll returns up to max events after position from, in global order.
	// It never returns an event that could still be preceded by one not yet
	// visible, so a reader that advances to the last position skips nothing.
	ReadAll(ctx context.Context, from Position, max int) ([]RecordedEvent, error)
	// SubscribeAll delivers every event after from: history first, then live.
	SubscribeAll(ctx context.Context, from Position) (*Subscription, error)
	// Close flushes pending appends and releases resources.
	Close() error
}
