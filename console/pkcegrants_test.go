package console

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// fillGrants puts n grants with IDs prefix0…, expiring at random within
// an hour of at.
func fillGrants(t testing.TB, s *memoryGrants, prefix string, n int, at time.Time) map[string]int64 {
	t.Helper()
	exp := make(map[string]int64, n)
	for i := range n {
		id := fmt.Sprint(prefix, i)
		exp[id] = at.Add(time.Duration(1+rand.IntN(3600)) * time.Second).UnixMilli()
		if err := s.put(context.Background(), id, authGrant{Expires: exp[id]}, at); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	return exp
}

// The memory store keeps at most maxGrants grants: one more is refused
// until some expire or are taken, and each put drops the expired ones,
// whatever order they were put in, and no other.
func TestMemoryGrantsExpireAndStayBounded(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := &memoryGrants{}
	exp := fillGrants(t, s, "g", maxGrants, at)
	if err := s.put(ctx, "one-more", authGrant{Expires: at.Add(time.Hour).UnixMilli()}, at); err == nil {
		t.Fatal("a grant beyond the bound was kept")
	}
	// One taken makes room for one.
	if g, ok, _ := s.take(ctx, "g7"); !ok || g.Expires != exp["g7"] {
		t.Fatalf("take g7: %v %v", g, ok)
	}
	delete(exp, "g7")
	if err := s.put(ctx, "one-more", authGrant{Expires: at.Add(2 * time.Hour).UnixMilli()}, at); err != nil {
		t.Fatalf("a grant in the room a take left: %v", err)
	}
	exp["one-more"] = at.Add(2 * time.Hour).UnixMilli()
	if err := s.put(ctx, "two-more", authGrant{Expires: at.Add(2 * time.Hour).UnixMilli()}, at); err == nil {
		t.Fatal("a grant beyond the bound was kept")
	}
	// A grant put again under its ID (a second denial of one request)
	// replaces it and takes no more room.
	if err := s.put(ctx, "g8", authGrant{Expires: exp["g8"]}, at); err != nil {
		t.Fatalf("a grant kept again: %v", err)
	}

	// Half an hour on, the next put drops exactly those expired by then.
	later := at.Add(30 * time.Minute)
	if err := s.put(ctx, "late", authGrant{Expires: later.Add(time.Minute).UnixMilli()}, later); err != nil {
		t.Fatalf("a grant once some expired: %v", err)
	}
	exp["late"] = later.Add(time.Minute).UnixMilli()
	expired := 0
	for id, e := range exp {
		_, ok, _ := s.get(ctx, id)
		if gone := later.UnixMilli() >= e; gone == ok {
			t.Fatalf("grant %s expiring at %d: kept %v at %d", id, e, ok, later.UnixMilli())
		} else if gone {
			expired++
		}
	}
	if expired == 0 || len(s.m) != len(exp)-expired {
		t.Fatalf("%d grants kept, %d expired of %d", len(s.m), expired, len(exp))
	}
	// After the last expiry, a put leaves only itself.
	end := at.Add(3 * time.Hour)
	if err := s.put(ctx, "last", authGrant{Expires: end.Add(time.Minute).UnixMilli()}, end); err != nil {
		t.Fatal(err)
	}
	if len(s.m) != 1 {
		t.Fatalf("%d grants kept after every other expired", len(s.m))
	}
}

// benchmarkPut puts and takes grants in a store that holds held others,
// each expiring at its own time within the hour.
func benchmarkPut(b *testing.B, held int) {
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := &memoryGrants{}
	fillGrants(b, s, "held", held, at)
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprint("new", i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := ids[i%len(ids)]
		if err := s.put(ctx, id, authGrant{Expires: at.Add(time.Duration(1+i%3600) * time.Second).UnixMilli()}, at); err != nil {
			b.Fatal(err)
		}
		if _, ok, _ := s.take(ctx, id); !ok {
			b.Fatal("taken before")
		}
	}
}

func BenchmarkMemoryGrantsPutEmpty(b *testing.B) { benchmarkPut(b, 0) }
func BenchmarkMemoryGrantsPutFull(b *testing.B)  { benchmarkPut(b, maxGrants-1) }
