package postgres

import (
	"bytes"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/routefree/routefree/eventstore"
)

// The migrations, goose's version table included, must land in the URL's
// search_path schema and nowhere else, and a second Open must be a no-op.
func TestMigrationsLandInSearchPathSchema(t *testing.T) {
	s, url := openFresh(t, Options{})
	ctx := testCtx(t)
	var schema string
	if err := s.Pool().QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if schema == "public" {
		t.Fatalf("test schema is public: search_path not applied")
	}
	rows, err := s.Pool().Query(ctx, `SELECT table_schema FROM information_schema.tables
		WHERE table_name = $1 OR table_name = 'events'`, VersionTable)
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sc := range schemas {
		if sc == schema {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("want events and %s in %s, found tables in schemas %v", VersionTable, schema, schemas)
	}
	var version int64
	if err := s.Pool().QueryRow(ctx, "SELECT max(version_id) FROM "+VersionTable).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 1 {
		t.Fatalf("goose version %d, want >= 1", version)
	}
	// A second instance on the same schema finds the migrations applied.
	s2 := openAt(t, url, Options{})
	if _, err := s2.Append(ctx, "acct-1", eventstore.NoStream(), ev("AccountOpened")); err != nil {
		t.Fatal(err)
	}
}

func TestAppendReadRoundTrip(t *testing.T) {
	s, _ := openFresh(t, Options{})
	ctx := testCtx(t)
	in := []eventstore.EventData{ev("A"), ev("B"), ev("C")}
	in[1].Data = []byte("{\"raw\":  \"\\u00e9 not normalised\" }") // JSONB would rewrite this
	res, err := s.Append(ctx, "s1", eventstore.NoStream(), in...)
	if err != nil {
		t.Fatal(err)
	}
	if res.NextExpectedVersion != 2 {
		t.Fatalf("next expected %d, want 2", res.NextExpectedVersion)
	}
	got, err := s.ReadStream(ctx, "s1", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("read %d events, want 3", len(got))
	}
	for i, e := range got {
		w := in[i]
		if e.ID != w.ID || e.Type != w.Type || !e.OccurredAt.Equal(w.OccurredAt) || !bytes.Equal(e.Data, w.Data) || e.Version != uint64(i) {
			t.Fatalf("event %d: got %+v, want %+v", i, e, w)
		}
	}
	if got[2].Position != res.Position {
		t.Fatalf("append said %v, read %v", res.Position, got[2].Position)
	}
	if _, err := s.ReadStream(ctx, "nope", 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("missing stream: %v", err)
	}
	verifyChain(t, s, 3)
}

// One batch, several requests: the failing expectation fails alone, the
// others commit, versions run on within the batch, and IDs are stored once.
func TestBatchPartialFailure(t *testing.T) {
	s, _ := openFresh(t, Options{})
	ctx := testCtx(t)
	if _, err := s.Append(ctx, "a", eventstore.NoStream(), ev("X")); err != nil {
		t.Fatal(err)
	}
	dup := ev("Dup")
	batch := []*eventstore.AppendRequest{
		{Stream: "a", Expected: eventstore.Exact(0), Events: []eventstore.EventData{ev("X")}},
		{Stream: "a", Expected: eventstore.Exact(0), Events: []eventstore.EventData{ev("X")}}, // stale by now
		{Stream: "a", Expected: eventstore.Exact(1), Events: []eventstore.EventData{ev("X"), dup}},
		{Stream: "b", Expected: eventstore.Any(), Events: []eventstore.EventData{dup}}, // already in this batch
		{Stream: "c", Expected: eventstore.StreamExists(), Events: []eventstore.EventData{ev("X")}},
	}
	if err := s.writeBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	wantErr := []bool{false, true, false, false, true}
	for i, r := range batch {
		if (r.Err != nil) != wantErr[i] {
			t.Fatalf("request %d: err %v", i, r.Err)
		}
		if r.Err != nil && !errors.Is(r.Err, eventstore.ErrWrongExpectedVersion) {
			t.Fatalf("request %d: %v is not a wrong-version error", i, r.Err)
		}
	}
	if batch[2].Result.NextExpectedVersion != 3 {
		t.Fatalf("request 2 ended at %d, want 3", batch[2].Result.NextExpectedVersion)
	}
	if !sameLanding(batch[3].Result, batch[2].Result) || len(batch[2].Result.Existing) != 0 || len(batch[3].Result.Existing) != 1 {
		t.Fatalf("duplicate ID answered %+v, want the original %+v, its ID existing", batch[3].Result, batch[2].Result)
	}
	if _, err := s.ReadStream(ctx, "b", 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("stream b: %v, want not found (its only event was a duplicate)", err)
	}
	// A retried append whose events are all stored succeeds with the original result.
	retry, err := s.Append(ctx, "a", eventstore.Exact(1), batch[2].Events...)
	if err != nil || !sameLanding(retry, batch[2].Result) || len(retry.Existing) != len(batch[2].Events) {
		t.Fatalf("retry: %+v %v, want %+v", retry, err, batch[2].Result)
	}
	verifyChain(t, s, 4)
}

// sameLanding reports whether two appends name the same place.
func sameLanding(a, b eventstore.AppendResult) bool {
	return a.NextExpectedVersion == b.NextExpectedVersion && a.Position == b.Position
}
