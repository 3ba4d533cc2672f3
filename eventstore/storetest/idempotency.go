package storetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

func testIdempotent(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	c := ctx(t)
	ids := func(stream string) int {
		evs, err := s.ReadStream(c, stream, 0, 1000)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0
		}
		return len(must(t, evs, err))
	}

	t.Run("TwiceInOneCall", func(t *testing.T) {
		e := event("E")
		res := on(t, s).Append("one-call", eventstore.Any(), e, e, event("E"))
		if n := ids("one-call"); n != 2 {
			t.Fatalf("stream has %d events, want 2", n)
		}
		if len(res.Existing) != 0 {
			t.Fatalf("an ID repeated within the call that stored it is reported existing: %v", res.Existing)
		}
	})
	t.Run("TwiceInTwoCalls", func(t *testing.T) {
		e := event("E")
		first := on(t, s).Append("two-calls", eventstore.Any(), e)
		again := on(t, s).Append("two-calls", eventstore.Any(), e)
		if n := ids("two-calls"); n != 1 {
			t.Fatalf("stream has %d events, want 1", n)
		}
		if len(first.Existing) != 0 || !sameIDs(again.Existing, e) {
			t.Fatalf("existing: first call %v, second %v; want none, then %s", first.Existing, again.Existing, e.ID)
		}
	})
	t.Run("TwoStreams", func(t *testing.T) {
		e := event("E")
		on(t, s).Append("first", eventstore.Any(), e)
		res, err := s.Append(c, "second", eventstore.Any(), e)
		if err != nil {
			t.Fatalf("the same ID in another stream: %v, want success", err)
		}
		if !sameIDs(res.Existing, e) {
			t.Fatalf("the same ID in another stream: existing %v, want %s", res.Existing, e.ID)
		}
		if a, b := ids("first"), ids("second"); a != 1 || b != 0 {
			t.Fatalf("first has %d, second %d events; want 1 and 0", a, b)
		}
	})
	t.Run("ExactRetry", func(t *testing.T) {
		on(t, s).Append("retry", eventstore.NoStream(), event("E"))
		batch := events("E", 3)
		first := on(t, s).Append("retry", eventstore.Exact(0), batch...)
		again, err := s.Append(c, "retry", eventstore.Exact(0), batch...)
		if err != nil {
			t.Fatalf("retrying an append whose IDs are all stored: %v, want success", err)
		}
		if again.NextExpectedVersion != first.NextExpectedVersion {
			t.Fatalf("retry says version %d, the append said %d", again.NextExpectedVersion, first.NextExpectedVersion)
		}
		if len(first.Existing) != 0 || !sameIDs(again.Existing, batch...) {
			t.Fatalf("existing: append %v, retry %v; want none, then all three", first.Existing, again.Existing)
		}
		if n := ids("retry"); n != 4 {
			t.Fatalf("stream has %d events, want 4", n)
		}
	})
	t.Run("RetryInsideBusyBatch", func(t *testing.T) {
		// A retry that conflicts on version shares a transaction with fresh
		// appends; slow commits make such batches likely.
		batch := events("E", 2)
		on(t, s).Append("busy-retry", eventstore.NoStream(), batch...)
		if f.SlowCommit != nil {
			f.SlowCommit(s, true)
			defer f.SlowCommit(s, false)
		}
		fresh := make([][]eventstore.EventData, 30)
		errs := make(chan error, len(fresh)+1)
		for i := range fresh {
			fresh[i] = events("E", 3)
			go func() { _, err := s.Append(c, "busy-fresh", eventstore.Any(), fresh[i]...); errs <- err }()
		}
		go func() { _, err := s.Append(c, "busy-retry", eventstore.NoStream(), batch...); errs <- err }()
		for range len(fresh) + 1 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		byID := map[[16]byte]eventstore.RecordedEvent{}
		for _, e := range on(t, s).ReadStream("busy-fresh", 0, 1000) {
			byID[e.ID] = e
		}
		for _, evs := range fresh {
			for _, want := range evs {
				got, ok := byID[want.ID]
				if !ok {
					t.Fatalf("event %s missing", want.ID)
				}
				sameEvent(t, got, want)
			}
		}
		if n := ids("busy-retry"); n != 2 {
			t.Fatalf("retried stream has %d events, want 2", n)
		}
	})
	t.Run("PartlyStored", func(t *testing.T) {
		old, fresh := event("E"), event("E")
		on(t, s).Append("partly", eventstore.Any(), old)
		res := on(t, s).Append("partly", eventstore.Any(), old, fresh)
		if n := ids("partly"); n != 2 || !sameIDs(res.Existing, old) {
			t.Fatalf("stream has %d events, existing %v; want 2 and %s", n, res.Existing, old.ID)
		}
	})
	t.Run("ConcurrentSameID", func(t *testing.T) {
		// Of writers racing to append one event, each succeeds and exactly
		// one learns that it stored it.
		for _, exp := range []eventstore.ExpectedVersion{eventstore.Any(), eventstore.NoStream()} {
			e := event("E")
			stream := "racy-" + exp.String()
			type answer struct {
				res eventstore.AppendResult
				err error
			}
			answers := make(chan answer, 10)
			for range 10 {
				go func() { res, err := s.Append(c, stream, exp, e); answers <- answer{res, err} }()
			}
			wrote := 0
			for range 10 {
				a := <-answers
				if a.err != nil {
					t.Fatal(a.err)
				}
				switch {
				case len(a.res.Existing) == 0:
					wrote++
				case !sameIDs(a.res.Existing, e):
					t.Fatalf("existing %v, want %s", a.res.Existing, e.ID)
				}
			}
			if n := ids(stream); n != 1 || wrote != 1 {
				t.Fatalf("expecting %s: stream has %d events, %d appends say they wrote it; want 1 and 1", exp, n, wrote)
			}
		}
	})
	// Everything above, seen in global order: every ID once, chain intact.
	seen := map[[16]byte]bool{}
	for _, e := range readAll(t, s) {
		if seen[e.ID] {
			t.Fatalf("event %s stored twice", e.ID)
		}
		seen[e.ID] = true
	}
	verify(t, s)
}

// sameIDs reports whether ids are the events' IDs, in order.
func sameIDs(ids []uuid.UUID, evs ...eventstore.EventData) bool {
	if len(ids) != len(evs) {
		return false
	}
	for i, e := range evs {
		if ids[i] != e.ID {
			return false
		}
	}
	return true
}

// verify checks the hash chain over the whole history and returns its length.
func verify(t *testing.T, s eventstore.Store) eventstore.VerifyResult {
	t.Helper()
	res, err := eventstore.Verify(ctx(t), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Break != nil {
		t.Fatalf("hash chain: %v", res.Break)
	}
	return res
}

func testHashChain(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	for i := range 5 {
		on(t, s).Append("chain", eventstore.Any(), events("E", i+1)...)
		on(t, s).Append("other", eventstore.Any(), event("E"))
	}
	all := readAllOf(t, s, 20)
	var prev []byte
	for i, e := range all {
		if !bytes.Equal(e.PrevHash, prev) {
			t.Fatalf("event %d: PrevHash %x, previous Hash %x", i, e.PrevHash, prev)
		}
		if want := eventstore.ChainHash(prev, &e); !bytes.Equal(e.Hash, want) {
			t.Fatalf("event %d: Hash %x, ChainHash gives %x", i, e.Hash, want)
		}
		prev = e.Hash
	}
	res := verify(t, s)
	if res.Events != uint64(len(all)) || res.Events != 20 || !bytes.Equal(res.Head, prev) || res.Last != all[len(all)-1].Position {
		t.Fatalf("Verify: %d events, head %x, last %v; want %d, %x, %v", res.Events, res.Head, res.Last, len(all), prev, all[len(all)-1].Position)
	}
}
