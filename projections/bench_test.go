package projections

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// BenchmarkReplay replays N generated events (ROUTEFREE_REPLAY_EVENTS,
// default 200,000) from a real SQLite store through every projection.
// Generation is not timed.
func BenchmarkReplay(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("ROUTEFREE_REPLAY_EVENTS")); err == nil && v > 0 {
		n = v
	}
	s := openSQLite(b)
	generate(b, s, n, 1000)
	ctx := context.Background()
	b.ResetTimer()
	var f *Figures
	for b.Loop() {
		var err error
		if f, err = Replay(ctx, s, nil); err != nil {
			b.Fatal(err)
		}
	}
	if f.Events != uint64(n) || f.Chain.Break != nil {
		b.Fatalf("replayed %d of %d events, chain %+v", f.Events, n, f.Chain.Break)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// generate appends n events for the given number of accounts: openings, a
// key and top-ups, then request.completed with decimal costs, 1,000 per append.
func generate(tb testing.TB, s eventstore.Store, n, accounts int) {
	ctx := context.Background()
	rnd := newRand(42)
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	written := 0
	flush := func(stream string, evs []eventstore.EventData) {
		if _, err := s.Append(ctx, stream, eventstore.Any(), evs...); err != nil {
			tb.Fatal(err)
		}
		written += len(evs)
	}
	var setup []eventstore.EventData
	for a := range accounts {
		acct := fmt.Sprintf("acct-%04d", a)
		setup = append(setup,
			mustEvent(tb, &domain.AccountOpened{AccountID: acct, Organisation: "Org", Plan: domain.PlanBusiness, CreditLimit: decimal.NewFromInt(5000)}, base, acct),
			mustEvent(tb, &domain.KeyIssued{KeyID: "k-" + acct, AccountID: acct, Hash: keyHash(acct), Prefix: "sk-rf-"}, base, "k"+acct),
			mustEvent(tb, &domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(1000), Method: domain.MethodCard, Reference: "r" + acct}, base, "t"+acct))
	}
	setup = setup[:min(len(setup), n)]
	for lo := 0; lo < len(setup); lo += 1000 {
		flush("setup", setup[lo:min(lo+1000, len(setup))])
	}
	models := []string{"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "gemini-2.0-flash"}
	for i := 0; written < n; i++ {
		acct := fmt.Sprintf("acct-%04d", i%accounts)
		batch := make([]eventstore.EventData, 0, 1000)
		for j := 0; j < 1000 && written+len(batch) < n; j++ {
			k := i*1000 + j
			at := base.Add(time.Duration(k) * 5 * time.Second) // ~2 months per million
			id := "gen-" + strconv.Itoa(k)
			a := fmt.Sprintf("acct-%04d", rnd.IntN(accounts))
			batch = append(batch, mustEvent(tb, &domain.RequestCompleted{
				RequestID: id, KeyID: "k-" + a, AccountID: a, Model: models[rnd.IntN(len(models))], Provider: "openai", Upstream: "primary",
				Usage: domain.Usage{Input: rnd.Int64N(3000), Output: rnd.Int64N(800), Cached: rnd.Int64N(500)},
				Cost:  decimal.New(rnd.Int64N(9_000_000), -6), PriceList: 1, StartedAt: at, LatencyMs: 300, Stream: j%2 == 0,
				Outcome: domain.OutcomeCompleted, Attempts: 1,
			}, at, id))
		}
		flush(domain.UsageStream(acct), batch)
	}
}

// TestHotModelsMemory loads 100,000 accounts, keys and top-ups into the Keys
// and Balances models over their shared account directory, and reports the
// heap and the process's resident size. The bound is one that the layout of
// a directory per model, with a decimal.Decimal for every amount and keys
// indexed by their hex hash, could not meet (101.6 MB in use, 88.8 MB live;
// this layout: 78 MB in use, 72.6 MB live).
func TestHotModelsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100,000 accounts")
	}
	const n = 100_000
	m := NewModels(nil)
	keys, bal := m.Keys, m.Balances
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]Event, 0, 3*n)
	pos := uint64(0)
	add := func(e domain.Event) {
		pos++
		batch = append(batch, Event{RecordedEvent: eventstore.RecordedEvent{Position: eventstore.Position{Commit: pos, Prepare: pos}}, Body: e})
	}
	for i := range n {
		acct := fmt.Sprintf("acct-%06d", i)
		add(&domain.AccountOpened{AccountID: acct, Organisation: "Organisation " + acct, TaxID: "04595257", Plan: domain.PlanBusiness, CreditLimit: decimal.NewFromInt(10000)})
		add(&domain.KeyIssued{KeyID: "key-" + acct, AccountID: acct, Hash: keyHash(acct), Prefix: "sk-rf-" + acct[5:], Name: "default",
			SpendLimit: decimal.NewFromInt(500), SpendPeriod: PeriodDaily})
		add(&domain.CreditsToppedUp{AccountID: acct, Amount: decimal.RequireFromString("1234.5"), Method: domain.MethodCard, Reference: acct})
	}
	for _, p := range []Projection{keys, bal} {
		if err := p.Apply(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	batch = nil
	runtime.GC()
	runtime.GC() // the second frees what the first found unreachable with finalizers
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if keys.Len() != n {
		t.Fatalf("keys %d", keys.Len())
	}
	info, ok := keys.Lookup(keyHash("acct-050000"))
	v, ok2 := bal.View("acct-050000", "key-acct-050000", at)
	if !ok || !ok2 || info.RPM != 100 || !v.Balance.Equal(decimal.RequireFromString("1234.5")) ||
		!v.KeySpendLimit.Equal(decimal.NewFromInt(500)) || v.Organisation != "Organisation acct-050000" {
		t.Fatalf("lookup %+v %v, view %+v %v", info, ok, v, ok2)
	}
	if a, ok := m.Accounts.Get("acct-050000"); !ok || a.Plan != domain.PlanBusiness || !a.CreditLimit.Equal(decimal.NewFromInt(10000)) {
		t.Fatalf("directory: %+v %v", a, ok)
	}
	t.Logf("100,000 accounts + keys: live heap %.1f MB, heap in use %.1f MB, Go runtime total %.1f MB, RSS %s",
		float64(ms.HeapAlloc)/(1<<20), float64(ms.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20), rss())
	if ms.HeapInuse > 88<<20 {
		t.Errorf("heap in use %.1f MB, over 88 MB", float64(ms.HeapInuse)/(1<<20))
	}
	runtime.KeepAlive(m)
}

// rss reads the resident set size from /proc (Linux), for the log.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range splitLines(string(b)) {
		if len(line) > 6 && line[:6] == "VmRSS:" {
			return line[6:]
		}
	}
	return "n/a"
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
