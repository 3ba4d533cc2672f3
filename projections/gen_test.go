package projections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/projections/internal/memstore"
)

// stores runs a test against the in-memory store and the real SQLite store.
func stores(t *testing.T, f func(t *testing.T, s eventstore.Store)) {
	t.Run("memstore", func(t *testing.T) { f(t, memstore.New()) })
	t.Run("sqlite", func(t *testing.T) { f(t, openSQLite(t)) })
}

func openSQLite(t testing.TB) *sqlite.Store {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustEvent(t testing.TB, e domain.Event, at time.Time, idParts ...string) eventstore.EventData {
	t.Helper()
	data, err := domain.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: domain.EventID(append([]string{e.EventType()}, idParts...)...), Type: e.EventType(),
		SchemaVersion: e.SchemaVersion(), OccurredAt: at.UTC(), Data: data}
}

func keyHash(key string) string { s := sha256.Sum256([]byte(key)); return hex.EncodeToString(s[:]) }

// ledger is what a generator appended, summed independently of the models.
type ledger struct {
	mu       sync.Mutex
	balances map[string]decimal.Decimal
	monthly  map[string]decimal.Decimal
	byKey    map[string]map[KeyFigure]decimal.Decimal // Taipei month → account, key and app → cost
	byDay    map[string]map[KeyFigure]decimal.Decimal // UTC day → account and key → cost
	requests int
	last     eventstore.Position
}

func newLedger() *ledger {
	return &ledger{balances: map[string]decimal.Decimal{}, monthly: map[string]decimal.Decimal{},
		byKey: map[string]map[KeyFigure]decimal.Decimal{}, byDay: map[string]map[KeyFigure]decimal.Decimal{}}
}

// checkUsage compares the usage model's rows with what the history
// appended: the requests, and the cost of each month.
func checkUsage(t testing.TB, u *Usage, l *ledger) {
	t.Helper()
	rows, err := u.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, n := map[string]decimal.Decimal{}, int64(0)
	for _, row := range rows {
		got[row.Period] = got[row.Period].Add(row.Cost)
		n += row.Requests
	}
	if n != int64(l.requests) {
		t.Errorf("requests counted %d, appended %d", n, l.requests)
	}
	for month, want := range l.monthly {
		if !got[month].Equal(want) {
			t.Errorf("month %s: %s, appended %s", month, got[month], want)
		}
	}
}

func (l *ledger) saw(p eventstore.Position) {
	l.mu.Lock()
	if l.last.Less(p) {
		l.last = p
	}
	l.mu.Unlock()
}

// gen appends a small realistic history: accounts, keys, top-ups and
// requests with decimal costs, from one goroutine per call.
type gen struct {
	t     testing.TB
	store eventstore.Store
	l     *ledger
	rnd   *rand.Rand
	base  time.Time
}

func (g *gen) append(stream string, evs ...eventstore.EventData) {
	g.t.Helper()
	res, err := g.store.Append(context.Background(), stream, eventstore.Any(), evs...)
	if err != nil {
		g.t.Error(err)
		return
	}
	g.l.saw(res.Position)
}

func (g *gen) openAccount(acct string, plan domain.Plan) {
	g.append(domain.AccountStream(acct), mustEvent(g.t, &domain.AccountOpened{AccountID: acct, Organisation: "Org " + acct, Plan: plan}, g.base, acct))
	g.append(domain.KeyStream("k-"+acct), mustEvent(g.t, &domain.KeyIssued{KeyID: "k-" + acct, AccountID: acct, Hash: keyHash("sk-" + acct),
		Prefix: "sk-rf-" + acct[:min(4, len(acct))], SpendPeriod: PeriodDaily, SpendLimit: decimal.NewFromInt(1000)}, g.base, "k-"+acct))
}

func (g *gen) topUp(acct string, amount decimal.Decimal, ref string) {
	g.append(domain.TopUpStream(acct), mustEvent(g.t, &domain.CreditsToppedUp{AccountID: acct, Amount: amount, Method: domain.MethodCard, Reference: ref}, g.base, acct, ref))
	g.l.mu.Lock()
	g.l.balances[acct] = g.l.balances[acct].Add(amount)
	g.l.mu.Unlock()
}

func (g *gen) request(acct, id string, at time.Time) { g.requestVia(acct, "k-"+acct, "", id, at) }

// requestVia is a request through key of acct, sent by app (its X-Title).
func (g *gen) requestVia(acct, key, app, id string, at time.Time) {
	cost := decimal.New(g.rnd.Int64N(5_000_000), -6) // up to 5 NTD, micro-NTD precision
	in, out := g.rnd.Int64N(4000), g.rnd.Int64N(2000)
	g.append(domain.UsageStream(acct), mustEvent(g.t, &domain.RequestCompleted{
		RequestID: id, KeyID: key, AccountID: acct, Model: []string{"gpt-4o", "claude-3-5", "gemini-2"}[g.rnd.IntN(3)],
		Provider: "openai", Upstream: "up1", Usage: domain.Usage{Input: in, Output: out, Cached: in / 4}, Cost: cost, PriceList: 1,
		StartedAt: at, LatencyMs: 120, Outcome: domain.OutcomeCompleted, Attempts: 1, AppTitle: app,
	}, at, id))
	g.l.mu.Lock()
	g.l.balances[acct] = g.l.balances[acct].Sub(cost)
	g.l.monthly[MonthOf(at)] = g.l.monthly[MonthOf(at)].Add(cost)
	addFigure(g.l.byKey, MonthOf(at), KeyFigure{acct, key, app}, cost)
	addFigure(g.l.byDay, at.UTC().Format(time.DateOnly), KeyFigure{Account: acct, Key: key}, cost)
	g.l.requests++
	g.l.mu.Unlock()
}

func addFigure(m map[string]map[KeyFigure]decimal.Decimal, period string, k KeyFigure, cost decimal.Decimal) {
	if m[period] == nil {
		m[period] = map[KeyFigure]decimal.Decimal{}
	}
	m[period][k] = m[period][k].Add(cost)
}

// history appends accounts and then requests from several writers at once.
func history(t testing.TB, s eventstore.Store, l *ledger, accounts, writers, perWriter int) {
	base := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	g := &gen{t: t, store: s, l: l, rnd: rand.New(rand.NewPCG(1, 2)), base: base}
	for a := range accounts {
		acct := fmt.Sprintf("acct-%03d", a)
		g.openAccount(acct, domain.PlanStarter)
		g.topUp(acct, decimal.RequireFromString("500.25"), "ref-"+acct)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := &gen{t: t, store: s, l: l, rnd: rand.New(rand.NewPCG(uint64(w), 7)), base: base}
			for i := range perWriter {
				acct := fmt.Sprintf("acct-%03d", g.rnd.IntN(accounts))
				at := base.Add(time.Duration(w*perWriter+i) * 7 * time.Minute) // spans months
				g.request(acct, fmt.Sprintf("req-%d-%d", w, i), at)
			}
		}()
	}
	wg.Wait()
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }
