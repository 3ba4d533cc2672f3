package projections

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections/internal/memstore"
)

func openUsageDB(t testing.TB) *Usage {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "rm.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	u, err := NewUsage(context.Background(), db, SQLite)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func startRunner(t *testing.T, s eventstore.Store, ps ...Projection) *Runner {
	t.Helper()
	r, err := NewRunner(s, watermill.NopLogger{}, ps...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-r.Running():
	case <-time.After(10 * time.Second):
		t.Fatal("runner did not start")
	}
	return r
}

func waitFor(t *testing.T, r *Runner, p eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, p); err != nil {
		t.Fatal(err)
	}
}

// The live models, fed while writers append concurrently, must equal both
// the writers' own ledger and a full replay.
func TestLiveBalancesEqualReplay(t *testing.T) {
	stores(t, func(t *testing.T, s eventstore.Store) {
		m := NewModels(openUsageDB(t))
		r := startRunner(t, s, m.All()...)
		l := newLedger()
		history(t, s, l, 20, 4, 250)
		waitFor(t, r, l.last)

		live := m.Balances.Balances()
		if len(live) != len(l.balances) {
			t.Fatalf("live accounts %d, appended %d", len(live), len(l.balances))
		}
		for a, want := range l.balances {
			if !live[a].Equal(want) {
				t.Errorf("live balance %s = %s, appended %s", a, live[a], want)
			}
		}
		f, err := Replay(context.Background(), s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.Chain.Break != nil || f.Chain.Events != f.Events || f.Events == 0 {
			t.Fatalf("chain %+v events %d", f.Chain, f.Events)
		}
		for a, want := range live {
			if !f.Balances[a].Equal(want) {
				t.Errorf("replayed balance %s = %s, live %s", a, f.Balances[a], want)
			}
		}
		liveFig, err := m.Figures(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(l.monthly) < 2 {
			t.Fatalf("history should span months, got %v", l.monthly)
		}
		for month, want := range l.monthly {
			if !f.MonthlyTotals[month].Equal(want) || !liveFig.MonthlyTotals[month].Equal(want) {
				t.Errorf("month %s: replay %s live %s appended %s", month, f.MonthlyTotals[month], liveFig.MonthlyTotals[month], want)
			}
		}
		if m.Requests.Len() != l.requests {
			t.Errorf("requests indexed %d, appended %d", m.Requests.Len(), l.requests)
		}
		var a, b bytes.Buffer
		if err := f.Write(&a); err != nil {
			t.Fatal(err)
		}
		f2, err := Replay(context.Background(), s, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = f2.Write(&b)
		if a.String() != b.String() || !strings.Contains(a.String(), "HASH CHAIN  OK") {
			t.Errorf("figures not stable or chain not OK:\n%s\n---\n%s", a.String(), b.String())
		}
	})
}

// A projection restarted on its SQL checkpoint continues without counting
// anything twice, even when handed events it already applied.
func TestUsageRestartFromCheckpoint(t *testing.T) {
	stores(t, func(t *testing.T, s eventstore.Store) {
		u := openUsageDB(t)
		l := newLedger()
		history(t, s, l, 5, 1, 100)

		r1, _ := NewRunner(s, nil, u)
		if err := r1.CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		cp, _ := u.Checkpoint(context.Background())
		if cp != l.last {
			t.Fatalf("checkpoint %s, last appended %s", cp, l.last)
		}
		// Redeliver the whole history by hand: the checkpoint trims it.
		all, _ := s.ReadAll(context.Background(), eventstore.Start, 0)
		if err := u.Apply(context.Background(), decodeBatch(all)); err != nil {
			t.Fatal(err)
		}
		history2 := &gen{t: t, store: s, l: l, base: time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC)}
		history2.rnd = newRand(9)
		for i := range 50 {
			history2.request("acct-001", "late-"+string(rune('a'+i%26))+time.Duration(i).String(), history2.base.Add(time.Duration(i)*time.Hour))
		}
		// A fresh model on the same database (as after a process restart)
		// resumes from the stored checkpoint and reads the stored rows.
		u2, err := NewUsage(context.Background(), u.db, SQLite)
		if err != nil {
			t.Fatal(err)
		}
		r2, _ := NewRunner(s, nil, u2)
		if err := r2.CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkUsage(t, u2, l)
	})
}

// A request that starts at 01:30 on 1 December in Taipei (17:30 UTC the day
// before) belongs to December; one at 23:59 Taipei on 30 November does not.
func TestUsageTaipeiMonthBoundary(t *testing.T) {
	s := openSQLite(t)
	u := openUsageDB(t)
	m := NewModels(u)
	ctx := context.Background()
	dec := time.Date(2026, 11, 30, 17, 30, 0, 0, time.UTC)
	nov := time.Date(2026, 11, 30, 15, 59, 0, 0, time.UTC)
	for i, at := range []time.Time{dec, nov} {
		id := []string{"dec", "nov"}[i]
		if _, err := s.Append(ctx, domain.UsageStream("a1"), eventstore.Any(), mustEvent(t, &domain.RequestCompleted{
			RequestID: id, KeyID: "k1", AccountID: "a1", Model: "m", Usage: domain.Usage{Input: 10, Output: 5},
			Cost: decimal.RequireFromString("1.5"), StartedAt: at, Outcome: domain.OutcomeCompleted,
		}, at, id)); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := NewRunner(s, nil, m.All()...)
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for month, n := range map[string]int64{"2026-12": 1, "2026-11": 1} {
		rows, err := u.ByAccountMonth(ctx, "a1", month)
		if err != nil || len(rows) != 1 || rows[0].Requests != n || !rows[0].Cost.Equal(decimal.RequireFromString("1.5")) {
			t.Errorf("%s: %+v %v", month, rows, err)
		}
	}
	days, err := u.DailyByAccount(ctx, "a1", "2026-11-30", "2026-12-01")
	if err != nil || len(days) != 2 || days[0].Period != "2026-11-30" || days[1].Period != "2026-12-01" {
		t.Errorf("days: %+v %v", days, err)
	}
	// Month-to-date spend as the gateway sees it, at each side of the boundary.
	v, _ := m.Balances.View("a1", "", dec.Add(time.Hour))
	if !v.MonthSpend.Equal(decimal.RequireFromString("1.5")) {
		t.Errorf("December spend %s", v.MonthSpend)
	}
}

// request.completed v1 (flat prompt/completion tokens) is upcast and counted.
func TestUpcastV1RequestCompleted(t *testing.T) {
	stores(t, func(t *testing.T, s eventstore.Store) {
		ctx := context.Background()
		at := time.Date(2025, 3, 1, 4, 0, 0, 0, time.UTC)
		v1 := `{"request_id":"old-1","key_id":"k1","account_id":"a1","model":"gpt-3.5","cost":"0.42","started_at":"2025-03-01T04:00:00Z","prompt_tokens":120,"completion_tokens":30}`
		if _, err := s.Append(ctx, domain.UsageStream("a1"), eventstore.Any(), eventstore.EventData{
			ID: domain.EventID("v1", "old-1"), Type: domain.TypeRequestCompleted, SchemaVersion: 1, OccurredAt: at, Data: []byte(v1),
		}); err != nil {
			t.Fatal(err)
		}
		u := openUsageDB(t)
		m := NewModels(u)
		r, _ := NewRunner(s, nil, m.All()...)
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := u.ByMonth(ctx, "2025-03")
		if err != nil || len(rows) != 1 || rows[0].TokensIn != 120 || rows[0].TokensOut != 30 || rows[0].Requests != 1 {
			t.Fatalf("rows %+v %v", rows, err)
		}
		f, ok := m.Requests.Get("old-1")
		if !ok || f.PriceList != 1 || f.Outcome != domain.OutcomeCompleted || f.Usage.Input != 120 || !f.Cost.Equal(decimal.RequireFromString("0.42")) {
			t.Errorf("request fact %+v", f)
		}
		v, _ := m.Balances.View("a1", "", at)
		if !v.Balance.Equal(decimal.RequireFromString("-0.42")) || v.AppliedUsageVersion != 0 {
			t.Errorf("balance view %+v", v)
		}
	})
}

// failOnce fails its first Apply: the runner must deliver the batch again.
type failOnce struct {
	memCheckpoint
	failed atomic.Bool
	seen   atomic.Int64
}

func (f *failOnce) Name() string { return "fail-once" }
func (f *failOnce) Apply(_ context.Context, b []Event) error {
	if f.failed.CompareAndSwap(false, true) {
		return errors.New("transient")
	}
	b = f.fresh(b)
	f.seen.Add(int64(len(b)))
	f.done(b)
	return nil
}

func TestRunnerRedeliversAfterError(t *testing.T) {
	s := memstore.New()
	l := newLedger()
	history(t, s, l, 3, 1, 20)
	p := &failOnce{}
	r := startRunner(t, s, p, NewBalances())
	waitFor(t, r, l.last)
	all, _ := s.ReadAll(context.Background(), eventstore.Start, 0)
	if p.seen.Load() != int64(len(all)) || r.Position("fail-once") != l.last {
		t.Errorf("applied %d of %d, position %s", p.seen.Load(), len(all), r.Position("fail-once"))
	}
	if lag := r.Lagging(l.last); len(lag) != 0 {
		t.Errorf("lagging %v", lag)
	}
}

// A catch-up fails with the projection's error instead of retrying forever.
func TestCatchUpReportsCorruptEvent(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	if _, err := s.Append(ctx, "usage-a", eventstore.Any(), eventstore.EventData{
		ID: domain.EventID("bad"), Type: domain.TypeRequestCompleted, SchemaVersion: 2, OccurredAt: time.Now(), Data: []byte(`{"cost":"abc"}`),
	}); err != nil {
		t.Fatal(err)
	}
	_, err := Replay(ctx, s, nil)
	if err == nil || !strings.Contains(err.Error(), "balances") && !strings.Contains(err.Error(), "requests") && !strings.Contains(err.Error(), "usage") {
		t.Fatalf("replay of a corrupt event: %v", err)
	}
}

func TestReplayReportsChainBreak(t *testing.T) {
	s := memstore.New()
	l := newLedger()
	history(t, s, l, 2, 1, 10)
	s.Tamper(5, []byte(`{"request_id":"x","account_id":"acct-000","cost":"0"}`))
	f, err := Replay(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Chain.Break == nil || f.Chain.Break.Position.Commit != 6 || f.Chain.Events != 5 {
		t.Fatalf("chain %+v", f.Chain)
	}
	var b bytes.Buffer
	_ = f.Write(&b)
	if !strings.Contains(b.String(), "BROKEN") {
		t.Errorf("figures hide the break:\n%s", b.String())
	}
}

func TestNewRunnerValidates(t *testing.T) {
	_, err := NewRunner(memstore.New(), nil, NewKeys(), NewKeys())
	if err == nil {
		t.Error("duplicate names accepted")
	}
	if _, err := NewRunner(memstore.New(), nil); err == nil {
		t.Error("no projections accepted")
	}
}

// Live, the usage model writes its buffer on its own within liveDelay, with
// no read asking for it, and Close writes what is left.
func TestUsageLiveWritesOnItsOwn(t *testing.T) {
	s := openSQLite(t)
	u := openUsageDB(t)
	l := newLedger()
	r, _ := NewRunner(s, nil, u)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	history(t, s, l, 3, 1, 20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cp, err := u.Checkpoint(context.Background()) // the stored checkpoint: no flush
		if err != nil {
			t.Fatal(err)
		}
		if cp == l.last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored checkpoint %s, last appended %s: the live buffer was never written", cp, l.last)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done

	// Events applied after that stay buffered until Close writes them.
	g := &gen{t: t, store: s, l: l, rnd: newRand(3), base: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)}
	g.request("acct-001", "after-stop", g.base)
	all, _ := s.ReadAll(context.Background(), eventstore.Start, 0)
	if err := u.Apply(context.Background(), decodeBatch(all[len(all)-1:])); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	cp, _ := u.Checkpoint(context.Background())
	if cp != all[len(all)-1].Position {
		t.Fatalf("after Close the stored checkpoint is %s, want %s", cp, all[len(all)-1].Position)
	}
}

// WaitFor does not sit out the store subscription's coalescing wait: a
// writer that waits on its own event (the console, readiness) hurries the
// feed, while the projections still read the commits of a busy moment
// together.
func TestWaitForHurriesTheFeed(t *testing.T) {
	s := memstore.New()
	s.Coalesce = time.Hour
	r := startRunner(t, s, NewBalances())
	l := newLedger()
	history(t, s, l, 2, 1, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, l.last); err != nil {
		t.Fatalf("the feed waited out its hour-long coalescing: %v", err)
	}
}
