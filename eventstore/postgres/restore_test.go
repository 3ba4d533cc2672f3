package postgres

import (
	"testing"

	"github.com/routefree/routefree/eventstore"
)

// TestAppendsAfterARestoreIntoAnotherCluster: a history restored with
// pg_dump into another PostgreSQL (a new server, a rebuilt one) keeps the
// transaction ids of the cluster it came from, which may be ahead of the
// new cluster's counter. Appends must go on, after everything restored,
// rather than be refused until the new counter catches up.
func TestAppendsAfterARestoreIntoAnotherCluster(t *testing.T) {
	s, url := openFresh(t, Options{})
	ctx := testCtx(t)
	for _, stream := range []string{"usage-a", "usage-b"} {
		if _, err := s.Append(ctx, stream, eventstore.Any(), ev("request.completed"), ev("request.completed")); err != nil {
			t.Fatal(err)
		}
	}
	before := readEverything(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What pg_dump's COPY puts back: the same rows with the transaction
	// ids of a cluster a million transactions ahead of this one. (An
	// UPDATE stands in for it: the append-order trigger watches INSERTs.)
	admin := openAt(t, url, Options{})
	if _, err := admin.pool.Exec(ctx, `UPDATE events SET transaction_id = (transaction_id::text::bigint + 1000000)::text::xid8`); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close()

	r := openAt(t, url, Options{})
	if _, err := r.Append(ctx, "usage-a", eventstore.Any(), ev("request.completed")); err != nil {
		t.Fatalf("append after the restore: %v", err)
	}
	if _, err := r.Append(ctx, "usage-c", eventstore.Any(), ev("request.completed"), ev("request.completed")); err != nil {
		t.Fatalf("second append after the restore: %v", err)
	}
	after := readEverything(t, r)
	if len(after) != len(before)+3 {
		t.Fatalf("%d events read after the restore and three appends, want %d", len(after), len(before)+3)
	}
	for i := range before {
		if after[i].ID != before[i].ID {
			t.Fatalf("event %d is %s after the restore, was %s", i, after[i].ID, before[i].ID)
		}
	}
	if res, err := eventstore.Verify(ctx, r, nil); err != nil || res.Break != nil {
		t.Fatalf("chain after the restore: %+v, %v", res, err)
	}
	// A reader that had read the restored history sees the new events.
	tail, err := r.ReadAll(ctx, after[len(before)-1].Position, 10)
	if err != nil || len(tail) != 3 {
		t.Fatalf("reading on from the restored history's last event: %d events, %v", len(tail), err)
	}
}
