package invoicing

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// taipei builds an instant from Taipei wall time.
func taipei(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.FixedZone("CST", 8*3600))
}

type env struct {
	t     testing.TB
	ctx   context.Context
	store *sqlite.Store
	path  string
	cmd   *commands.Handler
	clock *clock
	svc   *Service
}

func newEnv(t testing.TB, now time.Time) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &clock{t: now}
	e := &env{t: t, ctx: context.Background(), store: s, path: path, clock: c}
	e.cmd = &commands.Handler{Store: s, Now: c.Now}
	e.svc = e.newService()
	return e
}

func (e *env) newService() *Service {
	e.t.Helper()
	svc, err := New(e.store, Config{Seller: DevSeller(), Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

func (e *env) open(id, org, taxID string, plan domain.Plan) {
	e.t.Helper()
	if _, err := e.cmd.OpenAccount(e.ctx, domain.AccountOpened{AccountID: id, Organisation: org, TaxID: taxID, Plan: plan}); err != nil {
		e.t.Fatal(err)
	}
}

var reqSeq int

// use records a completed request of an account.
func (e *env) use(acct, model string, at time.Time, in, out int64, cost string) {
	e.t.Helper()
	if _, err := e.store.Append(e.ctx, domain.UsageStream(acct), eventstore.Any(), e.usage(acct, model, at, in, out, cost)); err != nil {
		e.t.Fatal(err)
	}
}

// usage is the event of a completed request, for use or a batch of them.
func (e *env) usage(acct, model string, at time.Time, in, out int64, cost string) eventstore.EventData {
	e.t.Helper()
	reqSeq++
	id := fmt.Sprintf("req-%s-%d", acct, reqSeq)
	rc := &domain.RequestCompleted{RequestID: id, AccountID: acct, Model: model, Usage: domain.Usage{Input: in, Output: out},
		Cost: dec(cost), StartedAt: at.UTC(), Outcome: domain.OutcomeCompleted}
	d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, id), at.Add(2*time.Second), rc)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) assign(period, prefix string, from, to int64) {
	e.t.Helper()
	if err := e.svc.AssignRange(e.ctx, period, prefix, from, to); err != nil {
		e.t.Fatal(err)
	}
}

var hints = map[gozxing.DecodeHintType]interface{}{
	gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	gozxing.DecodeHintType_TRY_HARDER:    true,
}

// whole returns an invoice of a list with its document, read from its
// event.
func whole(t testing.TB, svc *Service, inv Invoice) Invoice {
	t.Helper()
	one := []Invoice{inv}
	if err := svc.LoadDocuments(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	return one[0]
}
