package console

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
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
	heldAfterHistory(t, time.Date(2026, 2, 1, 4, 0, 0, 0, time.UTC),
		func(ctx context.Context, db *sql.DB) (projections.Projection, error) {
			return projections.NewKeyUsage(ctx, db, projections.SQLite)
		},
		func(r *domain.RequestCompleted, i int) {
			r.KeyID, r.AppTitle = "key-"+r.AccountID, "app"
			if history == "spread" {
				r.KeyID, r.AppTitle = fmt.Sprintf("key-%s-%02d", r.AccountID, i), fmt.Sprintf("app %02d", i)
			}
			r.Model, r.Provider, r.Upstream = "openai/gpt-4.1", "openai", "primary"
		},
		func(ctx context.Context, m projections.Projection) {
			rows := 0
			if err := m.(*projections.KeyUsage).Each(ctx, "acct-0000", "2026-01-01", "2026-12-31", func(*projections.KeyUsageRow) { rows++ }); err != nil {
				t.Fatal(err)
			}
			want := memDays
			if history == "spread" {
				want *= memPerDay
			}
			if rows != want {
				t.Fatalf("usage by key of one account: %d rows, want %d", rows, want)
			}
		})
}
