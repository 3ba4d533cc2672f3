package projections

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
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

// ReadApplied reads, without migrating or writing, the last event the usage
// model stored as applied: none on read models never written or dropped for
// a rebuild, the store's last event once the model caught up with it.
// `events verify` compares the store's head with it.
func TestAppliedRecordIsTheLastEventTheReadModelsWrote(t *testing.T) {
	dbs := map[Dialect]func(t *testing.T) *sql.DB{
		SQLite: func(t *testing.T) *sql.DB {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "rm.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			t.Cleanup(func() { db.Close() })
			return db
		},
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
			if _, ok, err := ReadApplied(ctx, db, d); ok || err != nil {
				t.Fatalf("read models never made: record %v, %v", ok, err)
			}
			u, err := NewUsage(ctx, db, d)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok, err := ReadApplied(ctx, db, d); ok || err != nil {
				t.Fatalf("read models never written: record %v, %v", ok, err)
			}
			s := openSQLite(t)
			history(t, s, newLedger(), 3, 1, 20)
			r, _ := NewRunner(s, nil, u)
			if err := r.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			if err := u.Close(); err != nil {
				t.Fatal(err)
			}
			last, err := s.ReadAllBackward(ctx, eventstore.End, 1)
			if err != nil || len(last) != 1 {
				t.Fatalf("the store's last event: %v %v", last, err)
			}
			a, ok, err := ReadApplied(ctx, db, d)
			if !ok || err != nil || a.Position != last[0].Position || a.ID != last[0].ID || !bytes.Equal(a.Hash, last[0].Hash) {
				t.Fatalf("record %+v %v %v; want the store's last event %s %s", a, ok, err, last[0].Position, last[0].ID)
			}
			if rebuilt, err := u.VerifyCheckpoint(ctx, openSQLite(t)); !rebuilt || err != nil {
				t.Fatalf("over another (empty) store: rebuilt %v, %v", rebuilt, err)
			}
			if a, ok, err := ReadApplied(ctx, db, d); ok || err != nil {
				t.Fatalf("read models dropped for a rebuild: record %+v %v, %v", a, ok, err)
			}
		})
	}
}
