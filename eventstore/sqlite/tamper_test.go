package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// tamperable opens a store with 20 events and a second, writable connection
// to its file, as an attacker with file access would have.
func tamperable(t *testing.T) (*sqlite.Store, *sql.DB, []eventstore.RecordedEvent) {
	s, path := openTemp(t, sqlite.Options{})
	ctx := context.Background()
	for i := range 4 {
		evs := make([]eventstore.EventData, 5)
		for j := range evs {
			evs[j] = usage(i*5 + j)
		}
		if _, err := s.Append(ctx, fmt.Sprintf("account-%d", i%2), eventstore.Any(), evs...); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ReadAll(ctx, eventstore.Start, 100)
	if err != nil || len(all) != 20 {
		t.Fatalf("read %d events: %v", len(all), err)
	}
	if res, err := eventstore.Verify(ctx, s, nil); err != nil || res.Break != nil || res.Events != 20 {
		t.Fatalf("untouched history does not verify: %+v %v", res, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, db, all
}

func wantBreak(t *testing.T, s *sqlite.Store, at eventstore.RecordedEvent) {
	t.Helper()
	res, err := eventstore.Verify(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	br := res.Break
	if br == nil {
		t.Fatalf("Verify found no break after tampering (checked %d events)", res.Events)
	}
	if br.Position != at.Position || br.Stream != at.Stream || br.Version != at.Version {
		t.Fatalf("break reported at %v (%s@%d), tampered event is at %v (%s@%d)", br.Position, br.Stream, br.Version, at.Position, at.Stream, at.Version)
	}
}

func TestTamperedBodyBreaksChain(t *testing.T) {
	s, db, all := tamperable(t)
	victim := all[7]
	edited := []byte(`{"cost":"0.000001"}`)
	if _, err := db.Exec(`UPDATE events SET data = ? WHERE position = ?`, edited, victim.Position.Commit); err != nil {
		t.Fatal(err)
	}
	wantBreak(t, s, victim)
}

func TestDeletedEventBreaksChain(t *testing.T) {
	s, db, all := tamperable(t)
	if _, err := db.Exec(`DELETE FROM events WHERE position = ?`, all[12].Position.Commit); err != nil {
		t.Fatal(err)
	}
	wantBreak(t, s, all[13]) // its successor no longer links to what precedes it
}

func TestRewrittenIDBreaksChain(t *testing.T) {
	s, db, all := tamperable(t)
	id := uuid.New()
	if _, err := db.Exec(`UPDATE events SET event_id = ? WHERE position = ?`, id[:], all[19].Position.Commit); err != nil {
		t.Fatal(err)
	}
	wantBreak(t, s, all[19])
}

// An event inserted into the file, with a hash that links it to the event
// before it, is the one named, as inserted: not its successor, whose link
// is all that broke.
func TestInsertedEventIsNamed(t *testing.T) {
	s, db, all := tamperable(t)
	after := all[9]
	forged := eventstore.RecordedEvent{EventData: usage(99), Stream: "account-forged", PrevHash: after.Hash,
		Position: eventstore.Position{Commit: after.Position.Commit + 1, Prepare: after.Position.Prepare + 1}}
	forged.Hash = eventstore.ChainHash(forged.PrevHash, &forged)
	for _, q := range []string{`UPDATE events SET position = -position WHERE position > ?`, `UPDATE events SET position = 1 - position WHERE position < 0`} {
		if _, err := db.Exec(q, after.Position.Commit); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO events (position, event_id, stream, version, type, schema_version, occurred_at, data, prev_hash, hash) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`,
		forged.Position.Commit, forged.ID[:], forged.Stream, forged.Type, forged.SchemaVersion, forged.OccurredAt.UnixNano(), forged.Data, forged.PrevHash, forged.Hash); err != nil {
		t.Fatal(err)
	}
	wantBreak(t, s, forged)
	res, err := eventstore.Verify(context.Background(), s, nil)
	if err != nil || res.Break == nil || !strings.Contains(res.Break.Reason, "inserted") || res.Events != 10 {
		t.Fatalf("verify after an insertion: %+v %v", res, err)
	}
}

// Two neighbouring rows of the file swapped (each event's contents moved to
// the other's position) are named as out of order, with both positions,
// where the verdict read "events before it were deleted or moved".
func TestSwappedEventsAreNamedOutOfOrder(t *testing.T) {
	s, db, all := tamperable(t)
	a, b := all[7].Position.Commit, all[8].Position.Commit
	for _, q := range []struct {
		sql      string
		from, to any
	}{{`UPDATE events SET position = ? WHERE position = ?`, -1, a}, {`UPDATE events SET position = ? WHERE position = ?`, a, b},
		{`UPDATE events SET position = ? WHERE position = ?`, b, -1}} {
		if _, err := db.Exec(q.sql, q.from, q.to); err != nil {
			t.Fatal(err)
		}
	}
	res, err := eventstore.Verify(context.Background(), s, nil)
	if err != nil || res.Break == nil {
		t.Fatalf("verify after a swap: %+v %v", res, err)
	}
	want := fmt.Sprintf("events at positions %s and %s are out of order", all[7].Position, all[8].Position)
	if res.Break.Position != all[7].Position || !strings.Contains(res.Break.Reason, want) || strings.Contains(res.Break.Reason, "deleted") {
		t.Fatalf("break %v; want at %s saying %q", res.Break, all[7].Position, want)
	}
	if res.Events != 7 || res.Last != all[6].Position {
		t.Fatalf("%d events verified through %s, want 7 through %s", res.Events, res.Last, all[6].Position)
	}
}

// A cell edited to text where its column holds an integer (a date typed
// over occurred_at, as a database browser writes it) cannot be read back
// into an event: Verify names that event as the first broken one, after
// the events before it verified, rather than failing on the cell.
func TestTextInAnIntegerCellIsNamed(t *testing.T) {
	s, db, all := tamperable(t)
	victim := all[11]
	if _, err := db.Exec(`UPDATE events SET occurred_at = '2026-11-30 12:00' WHERE position = ?`, victim.Position.Commit); err != nil {
		t.Fatal(err)
	}
	wantBreak(t, s, victim)
	res, err := eventstore.Verify(context.Background(), s, nil)
	if err != nil || res.Events != 11 || !strings.Contains(res.Break.Reason, `occurred_at holds "2026-11-30 12:00"`) {
		t.Fatalf("verify after a cell edited to text: %+v %v", res, err)
	}
}
