package commands

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// countingStore is a store that counts the events its reads return.
type countingStore struct {
	eventstore.Store
	read atomic.Int64
}

func (s *countingStore) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	evs, err := s.Store.ReadStream(ctx, stream, from, max)
	s.read.Add(int64(len(evs)))
	return evs, err
}

func (s *countingStore) ReadAll(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	evs, err := s.Store.ReadAll(ctx, from, max)
	s.read.Add(int64(len(evs)))
	return evs, err
}

// readsOfOneKey is the number of events read from s to issue one key of
// acct under ctx, which is then revoked.
func readsOfOneKey(t testing.TB, ctx context.Context, h *Handler, s *countingStore, acct, name string) int64 {
	t.Helper()
	before := s.read.Load()
	id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	n := s.read.Load() - before
	if err := h.RevokeKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	return n
}

// An account whose keys are made and revoked all day, within its bound
// on keys made in an hour, grows its key-slot stream by two events a key;
// making a key reads what changed since the last one, not that history:
// as many events after a hundred more keys as after ten. SQLite and
// PostgreSQL.
func TestMakingAKeyReadsWhatChangedSinceTheLast(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := kind.open(t)
			counted := &countingStore{Store: s}
			clk := &settable{t: t0}
			h := &Handler{Store: counted, Now: clk.Now}
			acct := mustOpen(t, ctx, h, domain.PlanStarter)
			for i := range 2 { // keys that stay live throughout
				if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: fmt.Sprint("kept", i)}); err != nil {
					t.Fatal(err)
				}
			}
			cust := asKey("key_mgmt")
			churn := func(n int) {
				for i := range n {
					clk.set(clk.Now().Add(40 * time.Second)) // 90 an hour: under the bound
					if err := issueAndRevoke(cust, h, acct, fmt.Sprint("churn", i)); err != nil {
						t.Fatal(err)
					}
				}
			}
			churn(10)
			early := readsOfOneKey(t, cust, h, counted, acct, "early")
			churn(100)
			late := readsOfOneKey(t, cust, h, counted, acct, "late")
			t.Logf("events read to make a key: %d after 10 keys made, %d after 110", early, late)
			if late > early {
				t.Fatalf("a key made after 100 more keys made and revoked read %d events, one after 10 read %d: the cost grows with the account's history", late, early)
			}
		})
	}
}

// sameSlots reports whether got, an account's key slots as a handler
// kept folding them, are want, the same stream read whole.
func sameSlots(got, want keySlots) bool {
	sorted := func(ts []time.Time) []time.Time {
		return slices.SortedFunc(slices.Values(ts), func(a, b time.Time) int { return a.Compare(b) })
	}
	return got.last == want.last && maps.EqualFunc(got.live, want.live, func(a, b domain.KeySlotTaken) bool {
		return a.KeyID == b.KeyID && a.SpendLimit.Equal(b.SpendLimit) && a.SpendPeriod == b.SpendPeriod && a.Actor == b.Actor
	}) && maps.EqualFunc(got.taken, want.taken, time.Time.Equal) &&
		slices.EqualFunc(sorted(got.made), sorted(want.made), time.Time.Equal)
}

// Whatever happens to an account's keys between two of its issues (keys
// made by its keys or by staff, here or in another process, revoked, the
// clock moved on or set back), the slots a handler keeps folding are those
// the stream read whole says, and so are its answers.
func TestKeptKeySlotsAreTheStreamReadWhole(t *testing.T) {
	dir := t.TempDir()
	runs := 0
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		runs++
		path := filepath.Join(dir, fmt.Sprint(runs, ".db"))
		open := func() eventstore.Store {
			s, err := sqlite.Open(path, sqlite.Options{})
			if err != nil {
				rt.Fatal(err)
			}
			return s
		}
		clk := &settable{t: t0}
		here := &Handler{Store: open(), Now: clk.Now, MaxKeysPerAccount: 6, MaxNewKeysPerHour: 4}
		there := &Handler{Store: open(), Now: clk.Now, MaxKeysPerAccount: 6, MaxNewKeysPerHour: 4}
		defer here.Store.Close()
		defer there.Store.Close()
		procs := []*Handler{here, there}
		acct := mustOpen(t, ctx, here, domain.PlanStarter)
		staff := domain.WithActor(ctx, domain.Actor{Kind: domain.ActorStaff, ID: "stf_1", Role: "admin"})
		var live []string
		for i := range rapid.IntRange(1, 15).Draw(rt, "steps") {
			switch rapid.IntRange(0, 4).Draw(rt, "step") {
			case 0, 1: // a key made, by a customer's key or staff, here or elsewhere
				h := procs[rapid.IntRange(0, 1).Draw(rt, "elsewhere")]
				by := []context.Context{asKey("key_mgmt"), staff}[rapid.IntRange(0, 1).Draw(rt, "by staff")]
				if id, _, err := h.IssueKey(by, domain.KeyIssued{AccountID: acct, Name: fmt.Sprint("k", i)}); err == nil {
					live = append(live, id)
				} else if !errors.Is(err, ErrKeyCap) && !errors.Is(err, ErrKeyRate) {
					rt.Fatal(err)
				}
			case 2: // a key revoked
				if len(live) > 0 {
					j := rapid.IntRange(0, len(live)-1).Draw(rt, "revoked")
					if err := procs[rapid.IntRange(0, 1).Draw(rt, "elsewhere")].RevokeKey(ctx, live[j]); err != nil {
						rt.Fatal(err)
					}
					live = slices.Delete(live, j, j+1)
				}
			case 3: // the clock moved on
				clk.set(clk.Now().Add(time.Duration(rapid.IntRange(0, 50).Draw(rt, "minutes on")) * time.Minute))
			case 4: // the clock set back
				clk.set(clk.Now().Add(-time.Duration(rapid.IntRange(1, 50).Draw(rt, "minutes back")) * time.Minute))
			}
			kept, err := here.readKeySlots(ctx, acct)
			if err != nil {
				rt.Fatal(err)
			}
			whole := &Handler{Store: here.Store, Now: clk.Now, MaxKeysPerAccount: 6, MaxNewKeysPerHour: 4}
			read, err := whole.readKeySlots(ctx, acct)
			if err != nil {
				rt.Fatal(err)
			}
			if !sameSlots(kept, read) {
				rt.Fatalf("key slots kept between issues:\n%+v\nread whole:\n%+v", kept, read)
			}
			k := domain.KeyIssued{AccountID: acct, Name: "checked"}
			if a, b := fmt.Sprint(here.CheckIssue(asKey("key_mgmt"), k)), fmt.Sprint(whole.CheckIssue(asKey("key_mgmt"), k)); a != b {
				rt.Fatalf("kept slots answer %s, read whole %s", a, b)
			}
		}
	})
}

// Another process's keys, made and revoked after this one last read an
// account's slots, count here: the cap refuses a key past them, and frees
// a place once one is revoked. SQLite and PostgreSQL.
func TestKeptKeySlotsCountAnotherProcesssKeys(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			s, reopen := kind.open(t)
			here := &Handler{Store: s, Now: func() time.Time { return t0 }, MaxKeysPerAccount: 3}
			there := &Handler{Store: reopen(), Now: here.Now, MaxKeysPerAccount: 3}
			acct := mustOpen(t, ctx, here, domain.PlanStarter)
			if _, _, err := here.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "here"}); err != nil {
				t.Fatal(err)
			}
			var theirs []string
			for i := range 2 {
				id, _, err := there.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: fmt.Sprint("there", i)})
				if err != nil {
					t.Fatal(err)
				}
				theirs = append(theirs, id)
			}
			if _, _, err := here.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "fourth"}); !errors.Is(err, ErrKeyCap) {
				t.Fatalf("a fourth key after another process made two: %v, want the cap's refusal", err)
			}
			if err := there.RevokeKey(ctx, theirs[0]); err != nil {
				t.Fatal(err)
			}
			if _, _, err := here.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "in its place"}); err != nil {
				t.Fatalf("after another process revoked one: %v", err)
			}
		})
	}
}

// The slots kept between issues stay within their bound, the accounts
// least recently used dropped first; a dropped account's stream is read
// whole on its next issue, which is answered as before.
func TestKeptKeySlotsStayWithinTheirBound(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	counted := &countingStore{Store: h.Store}
	h.Store, h.MaxKeysPerAccount = counted, 4
	h.KeySlots = NewKeySlotCache(12) // not the five accounts' slots
	var accts []string
	for range 5 {
		acct := mustOpen(t, ctx, h, domain.PlanStarter)
		for i := range 3 {
			if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: fmt.Sprint("k", i)}); err != nil {
				t.Fatal(err)
			}
		}
		accts = append(accts, acct)
	}
	if h.KeySlots.held > 12 || len(h.KeySlots.entries) == 0 {
		t.Fatalf("%d slots of %d accounts kept, want some, at most 12", h.KeySlots.held, len(h.KeySlots.entries))
	}
	if _, kept := h.KeySlots.entries[accts[0]]; kept {
		t.Fatalf("the account least recently used is kept")
	}
	before := counted.read.Load()
	if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: accts[0], Name: "fourth"}); err != nil {
		t.Fatalf("a fourth key of a dropped account: %v", err)
	}
	if n := counted.read.Load() - before; n < 3 {
		t.Fatalf("a dropped account's issue read %d events, want its three slots read again at least", n)
	}
	if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: accts[0], Name: "fifth"}); !errors.Is(err, ErrKeyCap) {
		t.Fatalf("a fifth key: %v, want the cap's refusal", err)
	}
}

// churned gives acct a key-slot stream of n events, as keys made and
// revoked a day before t0 left it.
func churned(b *testing.B, h *Handler, acct string, n int) {
	b.Helper()
	ctx := domain.WithActor(context.Background(), domain.Actor{Kind: domain.ActorKey, ID: "key_mgmt"})
	at := t0.Add(-24 * time.Hour)
	var batch []eventstore.EventData
	for i := range n {
		var e domain.Event = &domain.KeySlotTaken{AccountID: acct, KeyID: fmt.Sprint("key_old", i/2)}
		if i%2 == 1 {
			e = &domain.KeySlotFreed{AccountID: acct, KeyID: fmt.Sprint("key_old", i/2)}
		}
		domain.Stamp(ctx, e)
		d, err := Event(uuid.New(), at, e)
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, d)
		if len(batch) == 1000 || i == n-1 {
			if _, err := h.Store.Append(context.Background(), domain.KeySlotsStream(acct), eventstore.Any(), batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// Making (and revoking) a key of an account whose key-slot stream is
// long: as fast, reading as few events, whatever the stream's length.
func BenchmarkMakingAKey(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprint(n, " slot events"), func(b *testing.B) {
			ctx := context.Background()
			s, err := sqlite.Open(filepath.Join(b.TempDir(), "events.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			counted := &countingStore{Store: s}
			h := &Handler{Store: counted, Now: func() time.Time { return t0 }}
			acct := mustOpen(b, ctx, h, domain.PlanStarter)
			churned(b, h, acct, n)
			readsOfOneKey(b, ctx, h, counted, acct, "first") // its stream read whole, once
			var reads int64
			for b.Loop() {
				reads += readsOfOneKey(b, ctx, h, counted, acct, "key")
			}
			b.ReportMetric(float64(reads)/float64(b.N), "events-read/op")
		})
	}
}
