package console

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// The memory behind the usage by key and by app (the usage API's by_key
// and by_app, the console's charts) does not grow with the keys and apps
// an account's requests use: the console's read model kept every account
// × Taipei day × key and app in memory, for the whole history. Two
// histories of as many requests, accounts and days, one through a single
// key and app, the other spread over 16 keys and 16 apps an account,
// leave it about the same size.
func TestConsoleMemoryDoesNotGrowWithUsageByKey(t *testing.T) {
	if testing.Short() {
		t.Skip("applies 2 × 120,000 events")
	}
	one := heldInChild(t, "TestUsageByKeyMemoryChild", envUsageByKeyMemory, "one")
	many := heldInChild(t, "TestUsageByKeyMemoryChild", envUsageByKeyMemory, "spread")
	t.Logf("one key and app: %.1f MB held; 16 keys and 16 apps: %.1f MB held", float64(one)/1e6, float64(many)/1e6)
	if many > one+one/2+2<<20 {
		t.Errorf("the console and its usage models keep %.1f MB for requests spread over 16 keys and apps, %.1f MB for as many through one: "+
			"their memory grows with every account × day × key and app", float64(many)/1e6, float64(one)/1e6)
	}
}

// envUsageByKeyMemory makes TestUsageByKeyMemoryChild measure one history
// ("one" or "spread") in a process of its own.
const envUsageByKeyMemory = "ROUTEFREE_TEST_USAGE_BY_KEY_MEMORY"

// TestUsageByKeyMemoryChild applies one history to the console's read
// model and the SQL usage models behind the usage report, and reports the
// live heap they keep after it. It runs only as heldInChild's process.
func TestUsageByKeyMemoryChild(t *testing.T) {
	history := os.Getenv(envUsageByKeyMemory)
	if history == "" {
		t.Skip("run by TestConsoleMemoryDoesNotGrowWithUsageByKey in a process of its own")
	}
	spread := history == "spread"
	const accounts, days, perDay = 250, 30, 16
	cost := decimal.RequireFromString("0.125")
	first := time.Date(2026, 2, 1, 4, 0, 0, 0, time.UTC)
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
	keys, err := projections.NewKeyUsage(ctx, db, projections.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pos := uint64(0)
	for a := range accounts {
		acct := fmt.Sprintf("acct-%04d", a)
		batch := make([]projections.Event, 0, days*perDay)
		for d := range days {
			at := first.AddDate(0, 0, d)
			for i := range perDay {
				key, app := "key-"+acct, "app"
				if spread {
					key, app = fmt.Sprintf("key-%s-%02d", acct, i), fmt.Sprintf("app %02d", i)
				}
				pos++
				batch = append(batch, projections.Event{
					RecordedEvent: eventstore.RecordedEvent{EventData: eventstore.EventData{ID: uuid.New(), Type: domain.TypeRequestCompleted,
						OccurredAt: at}, Position: eventstore.Position{Commit: pos, Prepare: pos}},
					Body: &domain.RequestCompleted{RequestID: fmt.Sprintf("gen-%d", pos), KeyID: key, AccountID: acct,
						Model: "openai/gpt-4.1", Provider: "openai", Upstream: "primary", Usage: domain.Usage{Input: 100, Output: 50},
						Cost: cost, StartedAt: at, Outcome: domain.OutcomeCompleted, Attempts: 1, AppTitle: app},
				})
			}
		}
		for _, p := range []projections.Projection{v, keys} {
			if err := p.Apply(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows := 0
	if err := keys.Each(ctx, "acct-0000", "2026-01-01", "2026-12-31", func(*projections.KeyUsageRow) { rows++ }); err != nil {
		t.Fatal(err)
	}
	want := days
	if spread {
		want *= perDay
	}
	if rows != want {
		t.Fatalf("usage by key of one account: %d rows, want %d", rows, want)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	runtime.KeepAlive(keys)
	fmt.Printf("held bytes: %d\n", int64(after.HeapAlloc)-int64(before.HeapAlloc))
}
