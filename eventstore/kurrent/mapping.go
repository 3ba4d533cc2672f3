package kurrent

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/routefree/routefree/eventstore"
)

// The pure mappings between RouteFree's store types and the esdb client's.
// They do no I/O and are unit-tested without a server.

// expectedRevision maps an expectation onto the client's.
func expectedRevision(e eventstore.ExpectedVersion) esdb.ExpectedRevision {
	switch e.Kind {
	case eventstore.ExpectNoStream:
		return esdb.NoStream{}
	case eventstore.ExpectStreamExists:
		return esdb.StreamExists{}
	case eventstore.ExpectExact:
		return esdb.Revision(e.Version)
	}
	return esdb.Any{}
}

// expectedVersion maps the client's expectation back (nil means Any, as in
// esdb.AppendToStreamOptions).
func expectedVersion(r esdb.ExpectedRevision) eventstore.ExpectedVersion {
	switch r := r.(type) {
	case esdb.NoStream:
		return eventstore.NoStream()
	case esdb.StreamExists:
		return eventstore.StreamExists()
	case esdb.StreamRevision:
		return eventstore.Exact(r.Value)
	}
	return eventstore.Any()
}

// allPosition maps a position onto a $all read start. eventstore.Start is
// "before everything", which KurrentDB spells Start{}.
func allPosition(p eventstore.Position) esdb.AllPosition {
	if p == eventstore.Start {
		return esdb.Start{}
	}
	return esdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// position maps a KurrentDB log position; both hold (commit, prepare).
func position(p esdb.Position) eventstore.Position {
	return eventstore.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// isSystem tells KurrentDB's own events ($metadata, $statsCollected, links
// "$>", ...) from RouteFree's: their types start with "$".
func isSystem(eventType string) bool { return strings.HasPrefix(eventType, "$") }

// ours tells whether a record of $all belongs to the store with namespace
// ns: not a system event, and in one of its streams.
func ours(r *esdb.RecordedEvent, ns string) bool {
	return !isSystem(r.EventType) && strings.HasPrefix(r.StreamID, ns)
}

// eventMeta is what RouteFree keeps in an event's user metadata: the fields
// KurrentDB has no place for, and the hash chain.
type eventMeta struct {
	SchemaVersion int       `json:"schemaVersion"`
	OccurredAt    time.Time `json:"occurredAt"`
	PrevHash      []byte    `json:"prevHash,omitempty"` // base64; absent for the first event
	Hash          []byte    `json:"hash"`
}

// toEventData encodes a hashed event for AppendToStream. Data travels as-is.
func toEventData(e *eventstore.RecordedEvent) (esdb.EventData, error) {
	meta, err := json.Marshal(eventMeta{
		SchemaVersion: e.SchemaVersion,
		OccurredAt:    e.OccurredAt.UTC(),
		PrevHash:      e.PrevHash,
		Hash:          e.Hash,
	})
	if err != nil {
		return esdb.EventData{}, err
	}
	return esdb.EventData{
		EventID:     e.ID,
		EventType:   e.Type,
		ContentType: esdb.ContentTypeJson,
		Data:        e.Data,
		Metadata:    meta,
	}, nil
}

// fromRecorded decodes a stored event, its stream name without the
// namespace ns. An event without RouteFree's
// metadata (written by another tool) keeps zero hashes and takes the
// server's creation time, so a chain check reports it instead of a read
// failing on it.
func fromRecorded(r *esdb.RecordedEvent, ns string) eventstore.RecordedEvent {
	e := eventstore.RecordedEvent{
		EventData: eventstore.EventData{
			ID:   r.EventID,
			Type: r.EventType,
			Data: r.Data,
		},
		Stream:   strings.TrimPrefix(r.StreamID, ns),
		Version:  r.EventNumber,
		Position: position(r.Position),
	}
	var m eventMeta
	if len(r.UserMetadata) == 0 || json.Unmarshal(r.UserMetadata, &m) != nil {
		e.OccurredAt = r.CreatedDate.UTC()
		return e
	}
	e.SchemaVersion = m.SchemaVersion
	e.OccurredAt = m.OccurredAt.UTC()
	e.PrevHash = m.PrevHash
	e.Hash = m.Hash
	return e
}

// esdbError finds the client's error inside err. esdb.FromError is no help
// here: it reports ok=false for every non-nil error, and the client wraps
// some of its errors with fmt.Errorf, which FromError does not unwrap.
func esdbError(err error) (*esdb.Error, bool) {
	var e *esdb.Error
	ok := errors.As(err, &e)
	return e, ok
}

// currentRe picks the stream's actual revision out of the client's
// wrong-expected-version message: "expecting '…' but got '…'".
var currentRe = regexp.MustCompile(`but got '([^']*)'`)

// appendError maps an AppendToStream error: a failed expectation becomes a
// *eventstore.WrongVersionError (errors.Is ErrWrongExpectedVersion), a
// closed client ErrClosed; others are wrapped as they are.
func appendError(err error, stream string, expected eventstore.ExpectedVersion) error {
	if err == nil {
		return nil
	}
	e, ok := esdbError(err)
	if !ok {
		return fmt.Errorf("eventstore/kurrent: append to %s: %w", stream, err)
	}
	switch e.Code() {
	case esdb.ErrorCodeWrongExpectedVersion:
		wv := &eventstore.WrongVersionError{Stream: stream, Expected: expected}
		if m := currentRe.FindStringSubmatch(e.Error()); m != nil && m[1] != "no_stream" {
			if n, perr := strconv.ParseUint(m[1], 10, 64); perr == nil {
				wv.Actual, wv.Exists = n, true
			}
		}
		return wv
	case esdb.ErrorCodeConnectionClosed:
		return fmt.Errorf("%w: %v", eventstore.ErrClosed, err)
	}
	return fmt.Errorf("eventstore/kurrent: append to %s: %w", stream, err)
}

// readError maps a read error: a missing (or deleted) stream becomes
// ErrStreamNotFound, a closed client ErrClosed.
func readError(err error, stream string) error {
	if err == nil {
		return nil
	}
	if e, ok := esdbError(err); ok {
		switch e.Code() {
		case esdb.ErrorCodeResourceNotFound, esdb.ErrorCodeStreamDeleted:
			return fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, stream)
		case esdb.ErrorCodeConnectionClosed:
			return fmt.Errorf("%w: %v", eventstore.ErrClosed, err)
		}
	}
	return fmt.Errorf("eventstore/kurrent: read %s: %w", stream, err)
}
