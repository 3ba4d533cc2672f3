package projections

import (
	"context"
	"database/sql"
	"testing"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/testenv"
)

// TestUsageIsRebuiltFromAnotherHistory: usage rows built from one history,
// then the model opened over another store (a restore of an older copy, a
// replaced file). The checkpoint's event is not that store's: the rows are
// dropped and built again from it, and they match its history alone. Over
// the history it was built from, the model is kept.
func TestUsageIsRebuiltFromAnotherHistory(t *testing.T) {
	dbs := map[Dialect]func(t *testing.T) *sql.DB{
		SQLite: func(t *testing.T) *sql.DB { return openUsageDB(t).db },
		Postgres: func(t *testing.T) *sql.DB {
			db, err := sql.Open("pgx", testenv.PostgresURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
	for d, open := range dbs {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			build := func(s eventstore.Store) (*Usage, bool) {
				u, err := NewUsage(ctx, db, d)
				if err != nil {
					t.Fatal(err)
				}
				rebuilt, err := u.VerifyCheckpoint(ctx, s.(eventstore.EventReader))
				if err != nil {
					t.Fatal(err)
				}
				r, _ := NewRunner(s, nil, u)
				if err := r.CatchUp(ctx); err != nil {
					t.Fatal(err)
				}
				if err := u.Close(); err != nil {
					t.Fatal(err)
				}
				return u, rebuilt
			}
			first, l1 := openSQLite(t), newLedger()
			history(t, first, l1, 4, 2, 60)
			if _, rebuilt := build(first); rebuilt {
				t.Fatal("a new model was rebuilt")
			}
			u, rebuilt := build(first)
			if rebuilt {
				t.Fatal("the model was rebuilt over the history it was built from")
			}
			checkUsage(t, u, l1)

			other, l2 := openSQLite(t), newLedger()
			history(t, other, l2, 2, 1, 30)
			u, rebuilt = build(other)
			if !rebuilt {
				t.Fatal("the model was kept over another history")
			}
			checkUsage(t, u, l2)
		})
	}
}
