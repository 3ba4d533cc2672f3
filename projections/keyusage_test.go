package projections

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// The key usage model keeps requests per account, Taipei day of their
// start, key, model and app in SQL, for the whole history. A restart reads
// them back as they were, applying nothing, and a late request adds to a
// row written before it.
func TestKeyUsageKeptAcrossRestart(t *testing.T) {
	onBothSQL(t, testKeyUsageKeptAcrossRestart)
}

func testKeyUsageKeptAcrossRestart(t *testing.T, d Dialect, open func() *sql.DB) {
	ctx := context.Background()
	s := openSQLite(t)
	at := time.Date(2026, 3, 14, 15, 30, 0, 0, time.UTC) // 23:30 in Taipei
	var head eventstore.Position
	req := func(acct, key, model, app string, at time.Time, in, out int64, cost string) {
		t.Helper()
		id := uuid.NewString()
		ev := mustEvent(t, &domain.RequestCompleted{RequestID: id, KeyID: key, AccountID: acct, Model: model, Provider: "openai",
			Upstream: "up", Usage: domain.Usage{Input: in, Output: out}, Cost: decimal.RequireFromString(cost),
			StartedAt: at, Outcome: domain.OutcomeCompleted, Attempts: 1, AppTitle: app}, at, id)
		res, err := s.Append(ctx, domain.UsageStream(acct), eventstore.Any(), ev)
		if err != nil {
			t.Fatal(err)
		}
		head = res.Position
	}
	req("a", "k1", "m1", "看板", at, 100, 50, "0.000020864197523")
	req("a", "k1", "m1", "看板", at.Add(-time.Hour), 200, 100, "1.5")
	req("a", "k1", "m1", "", at, 1, 1, "0.25")
	req("a", "k2", "m1", "看板", at, 10, 5, "0.125")
	req("a", "k1", "m2", "看板", at.Add(time.Hour), 7, 3, "0.5") // Taipei's next day
	req("a", "k1", "m1", "看板", at.AddDate(-1, 0, 0), 1, 1, "9")
	req("b", "kb", "m1", "看板", at, 1, 1, "9")

	db := open()
	defer db.Close()
	ku, err := NewKeyUsage(ctx, db, d)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(s, nil, ku)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	read := func(m *KeyUsage) []KeyUsageRow {
		t.Helper()
		var out []KeyUsageRow
		if err := m.Each(ctx, "a", "2026-03-01", "2026-03-31", func(r *KeyUsageRow) { out = append(out, *r) }); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(out, func(a, b KeyUsageRow) int {
			return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Model, b.Model), cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.App, b.App))
		})
		return out
	}
	want := []KeyUsageRow{
		{Day: "2026-03-14", KeyID: "k1", Model: "m1", App: "", Requests: 1, TokensIn: 1, TokensOut: 1, Cost: decimal.RequireFromString("0.25")},
		{Day: "2026-03-14", KeyID: "k1", Model: "m1", App: "看板", Requests: 2, TokensIn: 300, TokensOut: 150, Cost: decimal.RequireFromString("1.500020864197523")},
		{Day: "2026-03-14", KeyID: "k2", Model: "m1", App: "看板", Requests: 1, TokensIn: 10, TokensOut: 5, Cost: decimal.RequireFromString("0.125")},
		{Day: "2026-03-15", KeyID: "k1", Model: "m2", App: "看板", Requests: 1, TokensIn: 7, TokensOut: 3, Cost: decimal.RequireFromString("0.5")},
	}
	same := func(label string, got, want []KeyUsageRow) {
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
	same("caught up", read(ku), want)
	if err := ku.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart: a new model on the same database, given no event.
	db2 := open()
	defer db2.Close()
	again, err := NewKeyUsage(ctx, db2, d)
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := again.Checkpoint(ctx); err != nil || cp != head {
		t.Fatalf("checkpoint after the restart %s (%v), want the head %s", cp, err, head)
	}
	same("after a restart", read(again), want)

	// A late request adds to a row this model has not seen.
	req("a", "k2", "m1", "看板", at, 1, 1, "0.5")
	r2, err := NewRunner(s, nil, again)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	late := want[2]
	late.Requests, late.TokensIn, late.TokensOut, late.Cost = 2, 11, 6, decimal.RequireFromString("0.625")
	same("a late request", read(again), []KeyUsageRow{want[0], want[1], late, want[3]})
	var n int
	if err := db2.QueryRowContext(ctx, "SELECT count(*) FROM usage_keys").Scan(&n); err != nil || n != 6 {
		t.Errorf("usage_keys holds %d rows (%v), want 6 (five of a, one of b)", n, err)
	}
}
