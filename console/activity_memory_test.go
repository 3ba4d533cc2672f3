package console

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// The memory behind OpenRouter's activity API does not grow with the
// models and upstreams an account's requests use: the console's read
// model keeps none of it, and the SQL activity model holds a bounded cache.
// Two histories of as many requests, accounts, keys and days, one on a
// single model and upstream, the other spread over 16 of them, leave both
// about the same size.
func TestConsoleMemoryDoesNotGrowWithActivity(t *testing.T) {
	if testing.Short() {
		t.Skip("applies 2 × 120,000 events")
	}
	one, many := heldInChild(t, "TestActivityMemoryChild", envActivityMemory, "one"), heldInChild(t, "TestActivityMemoryChild", envActivityMemory, "spread")
	t.Logf("one model and upstream: %.1f MB held; 8 models × 2 upstreams: %.1f MB held", float64(one)/1e6, float64(many)/1e6)
	if many > one+one/2+2<<20 {
		t.Errorf("the console and its activity model keep %.1f MB for requests spread over 16 models and upstreams, %.1f MB for as many on one: "+
			"their memory grows with every account × key × model × upstream × day", float64(many)/1e6, float64(one)/1e6)
	}
}

// envActivityMemory makes TestActivityMemoryChild measure one history
// ("one" or "spread"): in a process of its own, where no other test's
// garbage comes and goes.
const envActivityMemory = "ROUTEFREE_TEST_ACTIVITY_MEMORY"

// heldInChild runs the test child in a new process of the test binary,
// with env set to history, and returns the bytes it reports held.
func heldInChild(t *testing.T, child, env, history string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env+"="+history)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s history: %v\n%s", history, err, out)
	}
	_, after, ok := strings.Cut(string(out), "held bytes: ")
	if !ok {
		t.Fatalf("%s history: no figure in\n%s", history, out)
	}
	n, err := strconv.ParseInt(strings.Fields(after)[0], 10, 64)
	if err != nil {
		t.Fatalf("%s history: %v\n%s", history, err, out)
	}
	return n
}

// TestActivityMemoryChild applies one history to the console's read model
// and the SQL activity model, and reports the live heap they keep after it,
// its events gone. It runs only as heldInChild's process.
func TestActivityMemoryChild(t *testing.T) {
	history := os.Getenv(envActivityMemory)
	if history == "" {
		t.Skip("run by TestConsoleMemoryDoesNotGrowWithActivity in a process of its own")
	}
	models := []string{"openai/gpt-4.1", "openai/gpt-4.1-mini", "anthropic/claude-sonnet-4", "google/gemini-2.5-pro",
		"google/gemini-2.5-flash", "deepseek/deepseek-r1", "meta/llama-4", "mistral/mistral-large"}
	upstreams := [][2]string{{"openai", "primary"}, {"azure-openai", "secondary"}}
	first := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	heldAfterHistory(t, first,
		func(ctx context.Context, db *sql.DB) (projections.Projection, error) {
			act, err := projections.NewActivity(ctx, db, projections.SQLite)
			if err == nil {
				act.WithClock(func() time.Time { return first.AddDate(0, 0, memDays) }) // the day after the history's last
			}
			return act, err
		},
		func(r *domain.RequestCompleted, i int) {
			model, up := models[0], upstreams[0]
			if history == "spread" {
				model, up = models[i%len(models)], upstreams[i/len(models)]
			}
			r.KeyID, r.Model, r.Provider, r.Upstream = "key-"+r.AccountID, model, up[0], up[1]
		},
		func(ctx context.Context, m projections.Projection) {
			rows, err := m.(*projections.Activity).Rows(ctx, "acct-0000", "2026-01-01", "2026-12-31")
			want := memDays
			if history == "spread" {
				want *= memPerDay
			}
			if err != nil || len(rows) != want {
				t.Fatalf("activity of one account: %d rows (%v), want %d", len(rows), err, want)
			}
		})
}

// The histories of the memory tests: accounts × days × requests a day.
const memAccounts, memDays, memPerDay = 250, 30, 16

// heldAfterHistory applies a history of completed requests (memAccounts ×
// memDays × memPerDay, from first, each shaped by request from its
// account and its index in the day) to the console's read model and the
// SQL model newModel makes on a SQLite file of its own, checks the model
// (check), and prints the live heap both keep, their events gone, for
// heldInChild to read.
func heldAfterHistory(t *testing.T, first time.Time, newModel func(context.Context, *sql.DB) (projections.Projection, error),
	request func(r *domain.RequestCompleted, i int), check func(context.Context, projections.Projection)) {
	t.Helper()
	cost := decimal.RequireFromString("0.125")
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "rm.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := NewViews(projections.NewAccounts())
	model, err := newModel(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	pos := uint64(0)
	for a := range memAccounts {
		acct := fmt.Sprintf("acct-%04d", a)
		batch := make([]projections.Event, 0, memDays*memPerDay)
		for d := range memDays {
			at := first.AddDate(0, 0, d)
			for i := range memPerDay {
				pos++
				r := &domain.RequestCompleted{RequestID: fmt.Sprintf("gen-%d", pos), AccountID: acct, Usage: domain.Usage{Input: 100, Output: 50},
					Cost: cost, StartedAt: at, Outcome: domain.OutcomeCompleted, Attempts: 1}
				request(r, i)
				batch = append(batch, projections.Event{
					RecordedEvent: eventstore.RecordedEvent{EventData: eventstore.EventData{ID: uuid.New(), Type: domain.TypeRequestCompleted,
						OccurredAt: at}, Position: eventstore.Position{Commit: pos, Prepare: pos}},
					Body: r,
				})
			}
		}
		for _, p := range []projections.Projection{v, model} {
			if err := p.Apply(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	check(ctx, model)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	runtime.KeepAlive(model)
	fmt.Printf("held bytes: %d\n", int64(after.HeapAlloc)-int64(before.HeapAlloc))
}
