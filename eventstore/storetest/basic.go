package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore"
)

// sameEvent fails unless got carries want's data exactly.
func sameEvent(t *testing.T, got eventstore.RecordedEvent, want eventstore.EventData) {
	t.Helper()
	if got.ID != want.ID || got.Type != want.Type || got.SchemaVersion != want.SchemaVersion {
		t.Fatalf("event %s: got id %s type %q schema %d, want %s %q %d", want.ID, got.ID, got.Type, got.SchemaVersion, want.ID, want.Type, want.SchemaVersion)
	}
	if !got.OccurredAt.Equal(want.OccurredAt) || got.OccurredAt.Location() != time.UTC {
		t.Fatalf("event %s: occurred at %v, want the instant %v in UTC", want.ID, got.OccurredAt, want.OccurredAt)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("event %s: data %q, want exactly %q", want.ID, got.Data, want.Data)
	}
}

func testAppendAndReadStream(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	in := events("AccountOpened", 3)
	res := on(t, s).Append("account-1", eventstore.NoStream(), in...)
	if res.NextExpectedVersion != 2 {
		t.Fatalf("NextExpectedVersion = %d, want 2 (versions are 0-based)", res.NextExpectedVersion)
	}
	more := events("KeyIssued", 2)
	res2 := on(t, s).Append("account-1", eventstore.Exact(2), more...)
	if res2.NextExpectedVersion != 4 || !res.Position.Less(res2.Position) {
		t.Fatalf("second append: %+v after %+v", res2, res)
	}
	got := on(t, s).ReadStream("account-1", 0, 100)
	want := append(in, more...)
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		sameEvent(t, e, want[i])
		if e.Stream != "account-1" || e.Version != uint64(i) {
			t.Fatalf("event %d: stream %q version %d", i, e.Stream, e.Version)
		}
		if i > 0 && !got[i-1].Position.Less(e.Position) {
			t.Fatalf("positions not increasing: %v then %v", got[i-1].Position, e.Position)
		}
	}
	if got[4].Position != res2.Position {
		t.Fatalf("append reported position %v, last event is at %v", res2.Position, got[4].Position)
	}
}

func testRoundTrip(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	taipei := time.FixedZone("Asia/Taipei", 8*3600)
	in := []eventstore.EventData{event("RequestCompleted"), event("RequestCompleted"), event("RequestCompleted"), event("RequestCompleted")}
	// Bytes a JSON column would normalise: key order, spacing, escapes, newline.
	in[0].Data = []byte("{\"z\":1,   \"a\":\"\\u81fa\",\"cost\":\"0.000123\"}\n")
	in[1].Data = []byte(`[]`)
	in[1].SchemaVersion = 7
	in[2].OccurredAt = time.Date(2026, 1, 31, 23, 59, 59, 999999999, taipei)
	in[3].Type = "invoice.issued.v2"
	in[3].Data = []byte(`{"amount":"12300","words":"新臺幣壹萬貳仟參佰元整"}`)
	on(t, s).Append("rt", eventstore.Any(), in...)
	got := on(t, s).ReadStream("rt", 0, 100)
	all := readAllOf(t, s, len(in))
	if len(got) != len(in) || len(all) != len(in) {
		t.Fatalf("read %d by stream and %d in all, want %d", len(got), len(all), len(in))
	}
	for i := range in {
		sameEvent(t, got[i], in[i])
		sameEvent(t, all[i], in[i])
	}
}

func wantConflict(t *testing.T, err error, stream string, exists bool, actual uint64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("got %v, want ErrWrongExpectedVersion", err)
	}
	var we *eventstore.WrongVersionError
	if !errors.As(err, &we) {
		t.Fatalf("got %T (%v), want a *WrongVersionError", err, err)
	}
	if we.Stream != stream || we.Exists != exists || (exists && we.Actual != actual) {
		t.Fatalf("got %+v, want stream %q exists %v actual %d", *we, stream, exists, actual)
	}
}

func testExpectedVersion(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	c := ctx(t)
	count := func(stream string) int {
		evs, err := s.ReadStream(c, stream, 0, 1000)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0
		}
		return len(must(t, evs, err))
	}

	// On a stream that does not exist yet.
	_, err := s.Append(c, "s", eventstore.StreamExists(), event("E"))
	wantConflict(t, err, "s", false, 0)
	_, err = s.Append(c, "s", eventstore.Exact(0), event("E"))
	wantConflict(t, err, "s", false, 0)
	if n := count("s"); n != 0 {
		t.Fatalf("failed appends stored %d events", n)
	}
	on(t, s).Append("s", eventstore.NoStream(), event("E")) // version 0

	// On a stream at version 0.
	_, err = s.Append(c, "s", eventstore.NoStream(), event("E"))
	wantConflict(t, err, "s", true, 0)
	on(t, s).Append("s", eventstore.StreamExists(), event("E")) // 1
	_, err = s.Append(c, "s", eventstore.Exact(0), event("E"))
	wantConflict(t, err, "s", true, 1)
	_, err = s.Append(c, "s", eventstore.Exact(5), event("E"), event("E"))
	wantConflict(t, err, "s", true, 1)
	res := on(t, s).Append("s", eventstore.Exact(1), event("E"), event("E")) // 2, 3
	if res.NextExpectedVersion != 3 {
		t.Fatalf("NextExpectedVersion = %d, want 3", res.NextExpectedVersion)
	}
	res = on(t, s).Append("s", eventstore.Any(), event("E")) // 4
	if res.NextExpectedVersion != 4 {
		t.Fatalf("NextExpectedVersion = %d, want 4", res.NextExpectedVersion)
	}
	on(t, s).Append("fresh", eventstore.Any(), event("E"))
	if n := count("s"); n != 5 {
		t.Fatalf("stream has %d events, want 5: a conflicting append stored something", n)
	}
}

func testReadStreamMissing(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	on(t, s).Append("other", eventstore.Any(), event("E"))
	_, err := s.ReadStream(ctx(t), "missing", 0, 10)
	if !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("ReadStream of a missing stream: %v, want ErrStreamNotFound", err)
	}
}

func testReadStreamRange(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	in := events("E", 10)
	on(t, s).Append("r", eventstore.NoStream(), in...)
	on(t, s).Append("noise", eventstore.NoStream(), events("E", 3)...)
	check := func(from uint64, max int, wantFrom, wantN int) {
		t.Helper()
		got := on(t, s).ReadStream("r", from, max)
		if len(got) != wantN {
			t.Fatalf("ReadStream(from %d, max %d) gave %d events, want %d", from, max, len(got), wantN)
		}
		for i, e := range got {
			if e.Version != uint64(wantFrom+i) || e.ID != in[wantFrom+i].ID {
				t.Fatalf("ReadStream(from %d, max %d)[%d] is version %d", from, max, i, e.Version)
			}
		}
	}
	check(0, 100, 0, 10)
	check(3, 4, 3, 4)
	check(8, 100, 8, 2)
	check(9, 1, 9, 1)
	check(10, 5, 10, 0) // past the end of an existing stream: empty, no error
}

func testReadAllRange(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	on(t, s).Append("a", eventstore.Any(), events("E", 2)...)
	on(t, s).Append("b", eventstore.Any(), events("E", 2)...)
	on(t, s).Append("a", eventstore.Any(), events("E", 1)...)
	all := on(t, s).ReadAllAtLeast(eventstore.Start, 100, 5)
	if len(all) != 5 {
		t.Fatalf("ReadAll gave %d events, want 5", len(all))
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].Position.Less(all[i].Position) {
			t.Fatalf("positions not strictly increasing: %v then %v", all[i-1].Position, all[i].Position)
		}
	}
	if eventstore.Start.Less(eventstore.Start) || !eventstore.Start.Less(all[0].Position) {
		t.Fatalf("first position %v is not after Start", all[0].Position)
	}
	page := on(t, s).ReadAll(all[1].Position, 2) // exclusive start
	if len(page) != 2 || page[0].ID != all[2].ID || page[1].ID != all[3].ID {
		t.Fatalf("ReadAll(after #1, 2) = %d events, want #2 and #3", len(page))
	}
	if rest := on(t, s).ReadAll(all[4].Position, 10); len(rest) != 0 {
		t.Fatalf("ReadAll after the last event gave %d events", len(rest))
	}
	if one := on(t, s).ReadAll(eventstore.Start, 1); len(one) != 1 || one[0].ID != all[0].ID {
		t.Fatalf("ReadAll(Start, 1) gave %d events", len(one))
	}
}

func testClose(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	e := event("E")
	errs := make(chan error, 20)
	for range 20 {
		go func() { _, err := s.Append(ctx(t), "closing", eventstore.Any(), e); errs <- err }()
	}
	// Appends racing with Close either land or get ErrClosed.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := <-errs; err != nil && !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("append racing Close: %v", err)
		}
	}
	if _, err := s.Append(ctx(t), "closing", eventstore.Any(), event("E")); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// testHead: Head finds the last event, from the store's index where it has
// one (HeadReader) and by reading otherwise, and sees another process's
// appends.
func testHead(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	hr, indexed := s.(eventstore.HeadReader)
	if indexed {
		if last, err := hr.LastPosition(ctx(t)); err != nil || last != eventstore.Start {
			t.Fatalf("LastPosition of an empty store = %v, %v; want Start", last, err)
		}
	}
	if head, err := eventstore.Head(ctx(t), s, eventstore.Start, 0); err != nil || head != eventstore.Start {
		t.Fatalf("Head of an empty store = %v, %v; want Start", head, err)
	}
	if br, ok := s.(eventstore.BackwardReader); ok {
		checkBackward(t, br, nil)
	}
	tr, tailed := s.(eventstore.TailReader)
	if tailed {
		if ev, err := tr.LastEvent(ctx(t)); !errors.Is(err, eventstore.ErrEventNotFound) {
			t.Fatalf("LastEvent of an empty store = %v at %v, %v; want ErrEventNotFound", ev.ID, ev.Position, err)
		}
	}
	on(t, s).Append("a", eventstore.Any(), events("E", 3)...)
	on(t, s).Append("b", eventstore.Any(), events("E", 2)...)
	check := func(s eventstore.Store, want int) {
		t.Helper()
		all := on(t, s).ReadAllAtLeast(eventstore.Start, 100, want)
		last := all[len(all)-1].Position
		if br, ok := s.(eventstore.BackwardReader); ok {
			checkBackward(t, br, all)
		}
		if tailed {
			ev, err := s.(eventstore.TailReader).LastEvent(ctx(t))
			if err != nil || ev.ID != all[len(all)-1].ID || ev.Position != last || !bytes.Equal(ev.Hash, all[len(all)-1].Hash) {
				t.Fatalf("LastEvent = %v at %v, %v; want %v at %v, the last event ReadAll returns", ev.ID, ev.Position, err, all[len(all)-1].ID, last)
			}
		}
		if indexed {
			if got, err := s.(eventstore.HeadReader).LastPosition(ctx(t)); err != nil || got != last {
				t.Fatalf("LastPosition = %v, %v; want %v, the last event ReadAll returns", got, err, last)
			}
		}
		if got, err := eventstore.Head(ctx(t), s, eventstore.Start, 0); err != nil || got != last {
			t.Fatalf("Head from Start = %v, %v; want %v", got, err, last)
		}
		if got, err := eventstore.Head(ctx(t), s, all[1].Position, 0); err != nil || got != last {
			t.Fatalf("Head from the second event = %v, %v; want %v", got, err, last)
		}
		if got, err := eventstore.Head(ctx(t), s, last, 0); err != nil || got != last {
			t.Fatalf("Head from the last event = %v, %v; want it back", got, err)
		}
	}
	check(s, 5)
	if f.Share == nil {
		return
	}
	other := f.Share(t, s)
	on(t, other).Append("c", eventstore.Any(), events("E", 2)...)
	check(s, 7) // another process's appends, seen through the shared file or database
}

// checkBackward: a BackwardReader reads the history all holds from its end,
// newest first, from any position, and counts the events up to any.
func checkBackward(t *testing.T, br eventstore.BackwardReader, all []eventstore.RecordedEvent) {
	t.Helper()
	positions := func(evs []eventstore.RecordedEvent) []eventstore.Position {
		ps := make([]eventstore.Position, len(evs))
		for i := range evs {
			ps[i] = evs[i].Position
		}
		return ps
	}
	newest := func(before, max int) []eventstore.Position { // all[:before]'s last max, newest first
		var ps []eventstore.Position
		for i := before - 1; i >= 0 && len(ps) < max; i-- {
			ps = append(ps, all[i].Position)
		}
		return ps
	}
	evs, err := br.ReadAllBackward(ctx(t), eventstore.End, 2)
	if err != nil || !slices.Equal(positions(evs), newest(len(all), 2)) {
		t.Fatalf("ReadAllBackward(End, 2) = %v, %v; want %v", positions(evs), err, newest(len(all), 2))
	}
	if n, err := br.CountThrough(ctx(t), eventstore.End); err != nil || n != len(all) {
		t.Fatalf("CountThrough(End) = %d, %v; want %d", n, err, len(all))
	}
	if len(all) < 4 {
		return
	}
	evs, err = br.ReadAllBackward(ctx(t), all[3].Position, 10)
	if err != nil || !slices.Equal(positions(evs), newest(3, 10)) {
		t.Fatalf("ReadAllBackward(before the fourth, 10) = %v, %v; want %v", positions(evs), err, newest(3, 10))
	}
	if !bytes.Equal(evs[0].Hash, all[2].Hash) || evs[0].ID != all[2].ID {
		t.Fatal("ReadAllBackward's event differs from ReadAll's")
	}
	if n, err := br.CountThrough(ctx(t), all[2].Position); err != nil || n != 3 {
		t.Fatalf("CountThrough(the third) = %d, %v; want 3", n, err)
	}
}
