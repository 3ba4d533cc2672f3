package invoicing

import (
	"fmt"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// TestSyncPausesBetweenFullBatches: with FoldPause, a long first fold rests
// after every full batch it reads, so that the collector keeps pace beside
// a running gateway, and folds every event all the same. A short Sync,
// which reads less than a batch, never waits.
func TestSyncPausesBetweenFullBatches(t *testing.T) {
	at := taipei(2026, 11, 10, 12, 0)
	e := newEnv(t, at.AddDate(0, 0, 1))
	e.open("acct-p", "Postpaid Co", "", domain.PlanBusiness)
	const requests = 2_600
	evs := make([]eventstore.EventData, 0, 500)
	flush := func() {
		if _, err := e.store.Append(e.ctx, domain.UsageStream("acct-p"), eventstore.Any(), evs...); err != nil {
			t.Fatal(err)
		}
		evs = evs[:0]
	}
	for range requests {
		if evs = append(evs, e.usage("acct-p", "openai/gpt-4.1", at, 10, 5, "0.01")); len(evs) == cap(evs) {
			flush()
		}
	}
	flush()
	folded := int64(requests)
	for _, pause := range []time.Duration{0, 3 * time.Millisecond} {
		all, err := e.store.ReadAll(e.ctx, eventstore.Start, 0)
		if err != nil {
			t.Fatal(err)
		}
		total := len(all)
		svc, err := New(e.store, Config{Seller: DevSeller(), Now: e.clock.Now, FoldPause: pause})
		if err != nil {
			t.Fatal(err)
		}
		var pauses []time.Duration
		svc.sleep = func(d time.Duration) { pauses = append(pauses, d) }
		if err := svc.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		want := 0
		if pause > 0 {
			want = total / syncBatch
		}
		if len(pauses) != want {
			t.Fatalf("FoldPause %v: %d pauses folding %d events; want %d", pause, len(pauses), total, want)
		}
		for _, d := range pauses {
			if d != pause {
				t.Fatalf("paused %v; want %v", d, pause)
			}
		}
		u := svc.l.usage[acctMonth{"acct-p", "2026-11"}]
		if want := dec("0.01").Mul(dec(fmt.Sprint(folded))); len(u) != 1 || u[0].Requests != folded || !u[0].Cost.Decimal().Equal(want) {
			t.Fatalf("FoldPause %v: folded usage %+v; want %d requests costing %s", pause, u, folded, want)
		}

		// Caught up: one more request is read in a batch of one, without a pause.
		pauses = nil
		e.use("acct-p", "openai/gpt-4.1", at, 1, 1, "0.01")
		folded++
		if err := svc.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		if len(pauses) != 0 {
			t.Fatalf("a Sync that read one event paused %d times", len(pauses))
		}
	}
}
