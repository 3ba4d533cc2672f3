package kurrent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/kurrent/internal/fakedb"
)

// startFake serves the protocol fake on loopback for one test.
func startFake(t testing.TB) *fakedb.Server {
	t.Helper()
	f, err := fakedb.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}

// openOn opens a Store on the fake through the real client.
func openOn(t testing.TB, f *fakedb.Server, o Options) *Store {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, f.ConnString(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var evSeq atomic.Int64

func ev(typ string) eventstore.EventData {
	n := int(evSeq.Add(1))
	return eventstore.EventData{
		ID: uuid.New(), Type: typ, SchemaVersion: 1,
		OccurredAt: time.Date(2026, 3, 1, 0, 0, n, n, time.UTC),
		Data:       fmt.Appendf(nil, `{"n":%d}`, n),
	}
}

func mustAppend(t *testing.T, s *Store, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, exp, evs...)
	if err != nil {
		t.Fatalf("append to %s (%v): %v", stream, exp, err)
	}
	return res
}

func mustVerify(t *testing.T, s *Store, events uint64) {
	t.Helper()
	res, err := eventstore.Verify(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Break != nil {
		t.Fatalf("hash chain: %v", res.Break)
	}
	if res.Events != events {
		t.Fatalf("Verify checked %d events, want %d", res.Events, events)
	}
}

func TestWireExpectedRevisions(t *testing.T) {
	f := startFake(t)
	s := openOn(t, f, Options{Namespace: "ns1-"})
	mustAppend(t, s, "acct", eventstore.NoStream(), ev("A"))
	mustAppend(t, s, "acct", eventstore.StreamExists(), ev("A"))
	mustAppend(t, s, "acct", eventstore.Exact(1), ev("A"), ev("A"))
	res := mustAppend(t, s, "acct", eventstore.Any(), ev("A"))
	if res.NextExpectedVersion != 4 {
		t.Fatalf("NextExpectedVersion = %d, want 4", res.NextExpectedVersion)
	}
	want := []string{"no_stream", "stream_exists", "1", "any"}
	calls := f.Calls()
	if len(calls) != len(want) {
		t.Fatalf("%d appends on the wire, want %d", len(calls), len(want))
	}
	for i, c := range calls {
		if c.Stream != "ns1-acct" || c.Expected != want[i] {
			t.Errorf("append %d went out as %q expecting %q; want %q expecting %q", i, c.Stream, c.Expected, "ns1-acct", want[i])
		}
	}
}

func TestWireWrongExpectedVersion(t *testing.T) {
	f := startFake(t)
	s := openOn(t, f, Options{})
	ctx := context.Background()
	cases := []struct {
		exp    eventstore.ExpectedVersion
		exists bool
		actual uint64
	}{
		{eventstore.StreamExists(), false, 0},
		{eventstore.Exact(0), false, 0},
	}
	for _, c := range cases {
		_, err := s.Append(ctx, "s", c.exp, ev("E"))
		var we *eventstore.WrongVersionError
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) || !errors.As(err, &we) {
			t.Fatalf("%v on a missing stream: %v, want a WrongVersionError", c.exp, err)
		}
		if we.Stream != "s" || we.Exists != c.exists || we.Actual != c.actual || we.Expected != c.exp {
			t.Fatalf("%v: got %+v", c.exp, *we)
		}
	}
	mustAppend(t, s, "s", eventstore.NoStream(), ev("E"), ev("E")) // 0, 1
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream(), eventstore.Exact(0), eventstore.Exact(7)} {
		_, err := s.Append(ctx, "s", exp, ev("E"))
		var we *eventstore.WrongVersionError
		if !errors.As(err, &we) || !we.Exists || we.Actual != 1 {
			t.Fatalf("%v on a stream at 1: %v", exp, err)
		}
	}
	// A conflict stores nothing and leaves the chain whole.
	mustAppend(t, s, "s", eventstore.Exact(1), ev("E"))
	mustVerify(t, s, 3)
}

func TestWireReadStream(t *testing.T) {
	f := startFake(t)
	s := openOn(t, f, Options{})
	ctx := context.Background()
	if _, err := s.ReadStream(ctx, "missing", 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("ReadStream(missing) = %v, want ErrStreamNotFound", err)
	}
	in := []eventstore.EventData{ev("E"), ev("E"), ev("E")}
	mustAppend(t, s, "r", eventstore.Any(), in...)
	got, err := s.ReadStream(ctx, "r", 1, 10)
	if err != nil || len(got) != 2 || got[0].ID != in[1].ID || got[1].Version != 2 {
		t.Fatalf("ReadStream(r, 1) = %d events, %v", len(got), err)
	}
}

// KurrentDB writes its own events into $all; the store must neither return
// them nor let them break the chain, and must read past pages of them.
func TestReadAllSkipsSystemEventsAndStartsAfter(t *testing.T) {
	f := startFake(t)
	for range 5000 { // more than a read page
		f.AddSystemEvent("$stats-127.0.0.1:2113", "$statsCollected")
	}
	s := openOn(t, f, Options{})
	a := mustAppend(t, s, "a", eventstore.Any(), ev("E"))
	for range 5000 {
		f.AddSystemEvent("$$a", "$metadata")
	}
	mustAppend(t, s, "b", eventstore.Any(), ev("E"), ev("E"))
	all, err := s.ReadAll(context.Background(), eventstore.Start, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Position != a.Position {
		t.Fatalf("ReadAll = %d events (first at %v), want 3 starting at %v", len(all), all[0].Position, a.Position)
	}
	rest, err := s.ReadAll(context.Background(), all[0].Position, 10)
	if err != nil || len(rest) != 2 || rest[0].ID != all[1].ID {
		t.Fatalf("ReadAll after the first = %d events, %v", len(rest), err)
	}
	mustVerify(t, s, 3)
}

// A second Open picks the chain up where the first left it, and knows the
// IDs already stored.
func TestReopenContinuesChain(t *testing.T) {
	f := startFake(t)
	s1 := openOn(t, f, Options{})
	e := ev("E")
	mustAppend(t, s1, "x", eventstore.Any(), e, ev("E"))
	f.AddSystemEvent("$$x", "$metadata")
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openOn(t, f, Options{})
	mustAppend(t, s2, "y", eventstore.Any(), ev("E"))
	mustAppend(t, s2, "other", eventstore.Any(), e) // stored in x already
	mustVerify(t, s2, 3)
}

// A reply lost after the server stored the events: the writer must re-read
// the tip before it chains anything else, and a retry must store nothing.
func TestLostReplyReloadsTip(t *testing.T) {
	f := startFake(t)
	s := openOn(t, f, Options{})
	ctx := context.Background()
	mustAppend(t, s, "l", eventstore.Any(), ev("E"))
	lost := []eventstore.EventData{ev("E"), ev("E")}
	f.LoseReplies(1)
	if _, err := s.Append(ctx, "l", eventstore.Exact(0), lost...); err == nil || errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("append with a lost reply: %v, want a transport error", err)
	}
	// Another append comes first: it must chain after the stored events.
	mustAppend(t, s, "m", eventstore.Any(), ev("E"))
	res := mustAppend(t, s, "l", eventstore.Exact(0), lost...) // the caller's retry
	if res.NextExpectedVersion != 2 {
		t.Fatalf("retry says version %d, want 2", res.NextExpectedVersion)
	}
	got, err := s.ReadStream(ctx, "l", 0, 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("stream l has %d events (%v), want 3", len(got), err)
	}
	mustVerify(t, s, 4)
}

// Without the ID window, KurrentDB's own idempotency answers retries; the
// writer must see that nothing was stored and keep its tip.
func TestServerIdempotentReply(t *testing.T) {
	for _, noPos := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoPosition=%v", noPos), func(t *testing.T) {
			f := startFake(t)
			f.IdempotentNoPosition = noPos
			s := openOn(t, f, Options{IDWindow: -1})
			first := []eventstore.EventData{ev("E"), ev("E")}
			r1 := mustAppend(t, s, "i", eventstore.NoStream(), first...)
			r2 := mustAppend(t, s, "i", eventstore.NoStream(), first...)
			if r2.NextExpectedVersion != r1.NextExpectedVersion || r2.Position != r1.Position || len(r1.Existing) != 0 || len(r2.Existing) != len(first) {
				t.Fatalf("retry result %+v, first %+v", r2, r1)
			}
			mustAppend(t, s, "i", eventstore.Any(), ev("E"))
			if n := len(f.Log()); n != 3 {
				t.Fatalf("server holds %d events, want 3", n)
			}
			mustVerify(t, s, 3)
		})
	}
}

func TestNamespacesAreSeparateHistories(t *testing.T) {
	f := startFake(t)
	a := openOn(t, f, Options{Namespace: "a-"})
	b := openOn(t, f, Options{Namespace: "b-"})
	mustAppend(t, a, "acct", eventstore.NoStream(), ev("E"))
	mustAppend(t, b, "acct", eventstore.NoStream(), ev("E"), ev("E")) // same name, other namespace
	mustAppend(t, a, "acct", eventstore.Exact(0), ev("E"))
	all, err := a.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil || len(all) != 2 || all[0].Stream != "acct" {
		t.Fatalf("namespace a reads %d events (%v)", len(all), err)
	}
	mustVerify(t, a, 2)
	mustVerify(t, b, 2)
}

func TestSubscribeAllDeliversLive(t *testing.T) {
	f := startFake(t)
	s := openOn(t, f, Options{})
	mustAppend(t, s, "h", eventstore.Any(), ev("E"))
	sub, err := s.SubscribeAll(context.Background(), eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	live := ev("E")
	go func() { _, _ = s.Append(context.Background(), "h", eventstore.Any(), live) }()
	var got []eventstore.RecordedEvent
	timeout := time.After(30 * time.Second)
	for len(got) < 2 {
		select {
		case evs := <-sub.C:
			got = append(got, evs...)
		case <-timeout:
			t.Fatalf("subscription delivered %d of 2 events", len(got))
		}
	}
	if got[1].ID != live.ID || !got[0].Position.Less(got[1].Position) {
		t.Fatalf("subscription delivered %+v", got)
	}
}
