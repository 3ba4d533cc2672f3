package projections

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL through database/sql
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/testenv"
)

// The activity model keeps requests per account, UTC day, key, model and
// upstream in SQL, for the clock's today and the 30 days before it. A
// restart reads them back as they were, applying nothing; as the clock
// moves on, the days that leave the window are deleted.
func TestActivityKeptAcrossRestart(t *testing.T) {
	onBothSQL(t, testActivityKeptAcrossRestart)
}

func testActivityKeptAcrossRestart(t *testing.T, d Dialect, open func() *sql.DB) {
	ctx := context.Background()
	s := openSQLite(t)
	day := func(n int) time.Time { return time.Date(2026, 3, 14, 23, 30, 0, 0, time.UTC).AddDate(0, 0, n) } // Taipei's next day
	var head eventstore.Position                                                                            // the last event appended
	now := day(0)                                                                                           // the clock
	clock := func() time.Time { return now }
	req := func(acct, key, model, provider, upstream string, at time.Time, in, out, reasoning int64, cost string) {
		t.Helper()
		id := uuid.NewString()
		ev := mustEvent(t, &domain.RequestCompleted{RequestID: id, KeyID: key, AccountID: acct, Model: model, Provider: provider,
			Upstream: upstream, Usage: domain.Usage{Input: in, Output: out, Reasoning: reasoning}, Cost: decimal.RequireFromString(cost),
			StartedAt: at, Outcome: domain.OutcomeCompleted, Attempts: 1}, at, id)
		res, err := s.Append(ctx, domain.UsageStream(acct), eventstore.Any(), ev)
		if err != nil {
			t.Fatal(err)
		}
		head = res.Position
	}
	req("a", "k1", "m1", "openai", "up1", day(-40), 1, 1, 0, "9")   // before the window
	req("a", "k1", "m1", "openai", "up1", day(-31), 1, 1, 0, "9")   // the day before the window
	req("a", "k1", "m1", "openai", "up1", day(-30), 2, 2, 0, "0.5") // its first day
	req("a", "k1", "m1", "openai", "up1", day(0), 100, 50, 10, "0.000020864197523")
	req("a", "k1", "m1", "openai", "up1", day(0).Add(-23*time.Hour), 200, 100, 0, "1.5")
	req("a", "k2", "m1", "azure-openai", "up2", day(0), 10, 5, 0, "0.125")
	req("a", "k1", "m2", "anthropic", "up3", day(-1), 7, 3, 0, "0.25")
	req("b", "kb", "m1", "openai", "up1", day(0), 1, 1, 0, "9")

	db := open()
	defer db.Close()
	act, err := NewActivity(ctx, db, d)
	if err != nil {
		t.Fatal(err)
	}
	act.WithClock(clock)
	r, err := NewRunner(s, nil, act)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := act.Rows(ctx, "a", "2000-01-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	want := []ActivityRow{
		{Day: "2026-03-14", KeyID: "k2", Model: "m1", Provider: "azure-openai", Upstream: "up2", Requests: 1, TokensIn: 10, TokensOut: 5, Cost: decimal.RequireFromString("0.125")},
		{Day: "2026-03-14", KeyID: "k1", Model: "m1", Provider: "openai", Upstream: "up1", Requests: 2, TokensIn: 300, TokensOut: 150, TokensReasoning: 10, Cost: decimal.RequireFromString("1.500020864197523")},
		{Day: "2026-03-13", KeyID: "k1", Model: "m2", Provider: "anthropic", Upstream: "up3", Requests: 1, TokensIn: 7, TokensOut: 3, Cost: decimal.RequireFromString("0.25")},
		{Day: "2026-02-12", KeyID: "k1", Model: "m1", Provider: "openai", Upstream: "up1", Requests: 1, TokensIn: 2, TokensOut: 2, Cost: decimal.RequireFromString("0.5")},
	}
	same := func(label string, got []ActivityRow, want []ActivityRow) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows %+v, want %d %+v", label, len(got), got, len(want), want)
		}
		for i := range want {
			g, w := got[i], want[i]
			if !g.Cost.Equal(w.Cost) {
				t.Errorf("%s: row %d cost %s, want %s", label, i, g.Cost, w.Cost)
			}
			g.Cost, w.Cost = decimal.Zero, decimal.Zero
			if g != w {
				t.Errorf("%s: row %d %+v, want %+v", label, i, g, w)
			}
		}
	}
	same("caught up", rows, want)
	if err := act.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart: a new model on the same database, given no event.
	db2 := open()
	defer db2.Close()
	again, err := NewActivity(ctx, db2, d)
	if err != nil {
		t.Fatal(err)
	}
	again.WithClock(clock)
	if cp, err := again.Checkpoint(ctx); err != nil || cp != head {
		t.Fatalf("checkpoint after the restart %s (%v), want the head %s", cp, err, head)
	}
	rows, err = again.Rows(ctx, "a", "2000-01-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	same("after a restart", rows, want)

	// Five days later the window's first five days are gone. A late
	// request adds to a row written before the restart, which this model
	// has not seen.
	now = day(5)
	req("a", "k1", "m1", "openai", "up1", day(5), 1, 1, 0, "0.75")
	req("a", "k1", "m1", "openai", "up1", day(0), 1, 1, 1, "0.5")
	r2, err := NewRunner(s, nil, again)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err = again.Rows(ctx, "a", "2000-01-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	late := want[1]
	late.Requests, late.TokensIn, late.TokensOut, late.TokensReasoning, late.Cost = 3, 301, 151, 11, decimal.RequireFromString("2.000020864197523")
	same("five days later", rows, []ActivityRow{{Day: "2026-03-19", KeyID: "k1", Model: "m1", Provider: "openai", Upstream: "up1",
		Requests: 1, TokensIn: 1, TokensOut: 1, Cost: decimal.RequireFromString("0.75")}, want[0], late, want[2]})
	var n int
	if err := db2.QueryRowContext(ctx, "SELECT count(*) FROM usage_activity").Scan(&n); err != nil || n != 5 {
		t.Errorf("usage_activity holds %d rows (%v), want 5 (four of a, one of b)", n, err)
	}
}

// onBothSQL runs test on a SQLite read-model file and on PostgreSQL (a
// schema of its own), each opened anew whenever test calls open, as a
// restart opens it.
func onBothSQL(t *testing.T, test func(t *testing.T, d Dialect, open func() *sql.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "readmodels.db")
		test(t, SQLite, func() *sql.DB {
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := testenv.PostgresURL(t)
		test(t, Postgres, func() *sql.DB {
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
}

// The activity model keeps the days of OpenRouter's window by the clock:
// the 30 completed UTC days before today, and today. A request started
// after the clock's today (an instance whose clock runs ahead) deletes no
// day of that window, and days before it are gone once the clock has left
// them behind, however long ago the newest request was.
func TestActivityWindowFollowsTheClock(t *testing.T) {
	onBothSQL(t, testActivityWindowFollowsTheClock)
}

func testActivityWindowFollowsTheClock(t *testing.T, d Dialect, open func() *sql.DB) {
	ctx := context.Background()
	s := openSQLite(t)
	now := time.Date(2026, 3, 15, 2, 0, 0, 0, time.UTC)
	req := func(acct string, at time.Time, cost string) {
		t.Helper()
		id := uuid.NewString()
		ev := mustEvent(t, &domain.RequestCompleted{RequestID: id, KeyID: "k-" + acct, AccountID: acct, Model: "m1", Provider: "openai",
			Upstream: "up1", Usage: domain.Usage{Input: 1, Output: 1}, Cost: decimal.RequireFromString(cost),
			StartedAt: at, Outcome: domain.OutcomeCompleted, Attempts: 1}, at, id)
		if _, err := s.Append(ctx, domain.UsageStream(acct), eventstore.Any(), ev); err != nil {
			t.Fatal(err)
		}
	}
	from, to := ActivityWindow(now)
	first, _ := time.Parse(time.DateOnly, from)
	req("a", first.Add(12*time.Hour), "0.5")            // the window's first completed day
	req("a", first.Add(-12*time.Hour), "9")             // the day before it
	req("b", now.Add(22*time.Hour+time.Minute), "0.25") // tomorrow by this clock
	db := open()
	defer db.Close()
	act, err := NewActivity(ctx, db, d)
	if err != nil {
		t.Fatal(err)
	}
	act.WithClock(func() time.Time { return now })
	r, err := NewRunner(s, nil, act)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := act.Rows(ctx, "a", "2000-01-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Day != from || !rows[0].Cost.Equal(decimal.RequireFromString("0.5")) {
		t.Fatalf("account a: %+v, want one row on %s (the window %s..%s by the clock)", rows, from, from, to)
	}

	// Three months on, with no request since (an account opened): nothing
	// of a is kept.
	now = now.AddDate(0, 3, 0)
	if _, err := s.Append(ctx, domain.AccountStream("c"), eventstore.Any(),
		mustEvent(t, &domain.AccountOpened{AccountID: "c", Organisation: "Org c", Plan: domain.PlanStarter}, now, "c")); err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if rows, err = act.Rows(ctx, "a", "2000-01-01", "2100-01-01"); err != nil || len(rows) != 0 {
		t.Fatalf("account a three months later: %+v (%v), want none", rows, err)
	}
}
