package projections

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// BenchmarkChurnedKeyMemory reports the heap one key costs the hot models
// (keys and balances) of every gateway: live, and issued then revoked at
// once, as a script creating and deleting keys in a loop leaves them
// (names of their own, keys in the shape the commands issue). A revoked
// key is kept whole: the console and /api/v1/keys list it, its name
// labels its requests in the activity and usage reports, and its models
// and limits say which management keys see those requests.
func BenchmarkChurnedKeyMemory(b *testing.B) {
	const n, accounts = 50_000, 100
	for _, revoke := range []bool{false, true} {
		name := "live"
		if revoke {
			name = "revoked"
		}
		b.Run(name, func(b *testing.B) {
			var per float64
			for b.Loop() {
				per = churnedKeyBytes(b, n, accounts, revoke)
			}
			b.ReportMetric(per, "heap-B/key")
		})
	}
}

// churnedKeyBytes applies n keys of accounts accounts to fresh hot models,
// each revoked at once when revoke is set, and returns the live heap they
// add, per key.
func churnedKeyBytes(tb testing.TB, n, accounts int, revoke bool) float64 {
	m := NewModels(nil)
	pos := uint64(0)
	var batch []Event
	add := func(e domain.Event) {
		pos++
		batch = append(batch, Event{RecordedEvent: eventstore.RecordedEvent{Position: eventstore.Position{Commit: pos, Prepare: pos}}, Body: e})
	}
	for a := range accounts {
		add(&domain.AccountOpened{AccountID: fmt.Sprintf("acct_%012d", a), Organisation: "Org", Plan: domain.PlanStarter})
	}
	apply := func() {
		for _, p := range []Projection{m.Keys, m.Balances} {
			if err := p.Apply(context.Background(), batch); err != nil {
				tb.Fatal(err)
			}
		}
		batch = batch[:0]
	}
	apply()
	runtime.GC()
	before := liveHeap()
	for i := range n {
		id := fmt.Sprintf("key_%012d", i)
		add(&domain.KeyIssued{KeyID: id, AccountID: fmt.Sprintf("acct_%012d", i%accounts), Hash: keyHash(id),
			Prefix: "sk-rf-" + id[len(id)-6:] + "…", Name: fmt.Sprint("loop ", i)})
		if revoke {
			add(&domain.KeyRevoked{KeyID: id, AccountID: fmt.Sprintf("acct_%012d", i%accounts)})
		}
		if len(batch) >= 2000 {
			apply()
		}
	}
	apply()
	batch = nil
	runtime.GC()
	after := liveHeap()
	if m.Keys.Len() != n {
		tb.Fatalf("%d keys, want %d", m.Keys.Len(), n)
	}
	runtime.KeepAlive(m)
	return float64(after-before) / float64(n)
}
