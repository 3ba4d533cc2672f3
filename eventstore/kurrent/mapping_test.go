package kurrent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

func TestExpectedRevisionMapping(t *testing.T) {
	cases := []struct {
		in   eventstore.ExpectedVersion
		want esdb.ExpectedRevision
	}{
		{eventstore.Any(), esdb.Any{}},
		{eventstore.NoStream(), esdb.NoStream{}},
		{eventstore.StreamExists(), esdb.StreamExists{}},
		{eventstore.Exact(0), esdb.Revision(0)},
		{eventstore.Exact(41), esdb.Revision(41)},
	}
	for _, c := range cases {
		got := expectedRevision(c.in)
		if got != c.want {
			t.Errorf("expectedRevision(%v) = %#v, want %#v", c.in, got, c.want)
		}
		if back := expectedVersion(got); back != c.in {
			t.Errorf("expectedVersion(%#v) = %v, want %v", got, back, c.in)
		}
	}
	if got := expectedVersion(nil); got != eventstore.Any() {
		t.Errorf("expectedVersion(nil) = %v, want any (the client's default)", got)
	}
}

func TestPositionMapping(t *testing.T) {
	if got := allPosition(eventstore.Start); got != (esdb.Start{}) {
		t.Fatalf("allPosition(Start) = %#v, want esdb.Start{}", got)
	}
	p := eventstore.Position{Commit: 1<<40 + 7, Prepare: 1<<40 + 3}
	got, ok := allPosition(p).(esdb.Position)
	if !ok || got.Commit != p.Commit || got.Prepare != p.Prepare {
		t.Fatalf("allPosition(%v) = %#v", p, allPosition(p))
	}
	if back := position(got); back != p {
		t.Fatalf("position(%#v) = %v, want %v", got, back, p)
	}
}

func TestEventRoundTrip(t *testing.T) {
	taipei := time.FixedZone("Asia/Taipei", 8*3600)
	in := eventstore.RecordedEvent{
		EventData: eventstore.EventData{
			ID:            uuid.New(),
			Type:          "RequestCompleted",
			SchemaVersion: 3,
			OccurredAt:    time.Date(2026, 1, 31, 23, 59, 59, 999999999, taipei),
			Data:          []byte("{\"z\":1,  \"cost\":\"0.000123\"}\n"), // not normalised JSON: must travel as-is
		},
		Stream:  "usage-7",
		Version: 12,
	}
	in.PrevHash = bytes.Repeat([]byte{0xab}, 32)
	in.Hash = eventstore.ChainHash(in.PrevHash, &in)

	ed, err := toEventData(&in)
	if err != nil {
		t.Fatal(err)
	}
	if ed.EventID != in.ID || ed.EventType != in.Type || ed.ContentType != esdb.ContentTypeJson || !bytes.Equal(ed.Data, in.Data) {
		t.Fatalf("toEventData = %+v", ed)
	}
	var meta map[string]any
	if err := json.Unmarshal(ed.Metadata, &meta); err != nil {
		t.Fatalf("user metadata is not a JSON object: %v", err)
	}
	for _, k := range []string{"schemaVersion", "occurredAt", "prevHash", "hash"} {
		if _, ok := meta[k]; !ok {
			t.Errorf("user metadata lacks %q: %s", k, ed.Metadata)
		}
	}

	// What the server gives back: the same bytes, plus its own fields.
	rec := esdb.RecordedEvent{
		EventID: ed.EventID, EventType: ed.EventType, ContentType: "application/json",
		StreamID: "ns-" + in.Stream, EventNumber: in.Version,
		Position:    esdb.Position{Commit: 900, Prepare: 950},
		CreatedDate: time.Now(), Data: ed.Data, UserMetadata: ed.Metadata,
	}
	out := fromRecorded(&rec, "ns-")
	if out.ID != in.ID || out.Type != in.Type || out.SchemaVersion != 3 || out.Stream != "usage-7" || out.Version != 12 {
		t.Fatalf("fromRecorded = %+v", out)
	}
	if !out.OccurredAt.Equal(in.OccurredAt) || out.OccurredAt.Location() != time.UTC {
		t.Fatalf("OccurredAt = %v, want the instant %v in UTC", out.OccurredAt, in.OccurredAt)
	}
	if out.Position != (eventstore.Position{Commit: 900, Prepare: 950}) || !bytes.Equal(out.Data, in.Data) {
		t.Fatalf("position %v data %q", out.Position, out.Data)
	}
	if !bytes.Equal(out.PrevHash, in.PrevHash) || !bytes.Equal(out.Hash, in.Hash) {
		t.Fatal("hashes did not survive the metadata round trip")
	}
	if want := eventstore.ChainHash(out.PrevHash, &out); !bytes.Equal(want, out.Hash) {
		t.Fatal("the decoded event no longer verifies against its hash")
	}
}

func TestFromRecordedForeignEvent(t *testing.T) {
	created := time.Date(2025, 5, 1, 1, 2, 3, 400, time.UTC)
	for _, meta := range [][]byte{nil, []byte("not json")} {
		out := fromRecorded(&esdb.RecordedEvent{EventID: uuid.New(), EventType: "Foreign", StreamID: "x", CreatedDate: created, UserMetadata: meta}, "")
		if out.Hash != nil || out.PrevHash != nil || out.SchemaVersion != 0 || !out.OccurredAt.Equal(created) {
			t.Fatalf("metadata %q: decoded %+v, want no hashes and the server's creation time", meta, out)
		}
	}
}

func TestOursAndSystem(t *testing.T) {
	cases := []struct {
		typ, stream, ns string
		want            bool
	}{
		{"RequestCompleted", "usage-1", "", true},
		{"$metadata", "$$usage-1", "", false},
		{"$statsCollected", "$stats-127.0.0.1:2113", "", false},
		{"$>", "$ce-usage", "", false},
		{"RequestCompleted", "t1-usage", "t1-", true},
		{"RequestCompleted", "t2-usage", "t1-", false},
	}
	for _, c := range cases {
		if got := ours(&esdb.RecordedEvent{EventType: c.typ, StreamID: c.stream}, c.ns); got != c.want {
			t.Errorf("ours(%q in %q, ns %q) = %v", c.typ, c.stream, c.ns, got)
		}
	}
}

func TestErrorsThatAreNotTheClients(t *testing.T) {
	if appendError(nil, "s", eventstore.Any()) != nil || readError(nil, "s") != nil {
		t.Fatal("nil errors must stay nil")
	}
	// esdb.FromError reports ok=false even here; the mapping must not read
	// that as a failed expectation.
	plain := errors.New("connection reset")
	if err := appendError(plain, "s", eventstore.Exact(1)); errors.Is(err, eventstore.ErrWrongExpectedVersion) || !errors.Is(err, plain) {
		t.Fatalf("appendError(plain) = %v", err)
	}
	if err := readError(fmt.Errorf("wrapped: %w", plain), "s"); errors.Is(err, eventstore.ErrStreamNotFound) || !errors.Is(err, plain) {
		t.Fatalf("readError(plain) = %v", err)
	}
}

func TestIDWindowEvicts(t *testing.T) {
	w := newIDWindow(3)
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	for i, id := range ids {
		w.add(id, storedAt{"s", uint64(i)})
	}
	if _, ok := w.get(ids[0]); ok {
		t.Fatal("the oldest ID should have been evicted")
	}
	for i, id := range ids[1:] {
		if at, ok := w.get(id); !ok || at.version != uint64(i+1) {
			t.Fatalf("ID %d: %+v %v", i+1, at, ok)
		}
	}
	none := newIDWindow(-1)
	none.add(ids[0], storedAt{})
	if _, ok := none.get(ids[0]); ok || !none.full() {
		t.Fatal("a disabled window must remember nothing")
	}
}

func TestOptionsValidate(t *testing.T) {
	err := Options{MaxBatch: -1, PollInterval: -time.Second, Namespace: "$sys"}.Validate()
	if err == nil {
		t.Fatal("invalid options accepted")
	}
	for _, want := range []string{"MaxBatch", "PollInterval", "Namespace"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Fatalf("zero options: %v", err)
	}
}
