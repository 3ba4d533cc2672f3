package postgres

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/eventstore"
)

// Editing or deleting a stored row breaks the chain at that row: Verify
// names its position.
func TestTamperingBreaksTheChain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sql    string // $1: the position of the row to tamper with
		target int    // index of that row in global order
		broken int    // index of the row Verify must name
		reason string
	}{
		{"EditData", `UPDATE events SET data = '{"cost":"0"}' WHERE global_position = $1`, 11, 11, "content"},
		{"EditTime", `UPDATE events SET occurred_at = occurred_at + 1 WHERE global_position = $1`, 11, 11, "content"},
		{"DeleteRow", `DELETE FROM events WHERE global_position = $1`, 10, 11, "previous"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openFresh(t, Options{})
			ctx := testCtx(t)
			for i := range 10 {
				if _, err := s.Append(ctx, "acct", eventstore.Any(), ev("Usage"), ev("Usage")); err != nil {
					t.Fatal(i, err)
				}
			}
			all := readEverything(t, s)
			if _, err := s.Pool().Exec(ctx, tc.sql, int64(all[tc.target].Position.Prepare)); err != nil {
				t.Fatal(err)
			}
			res, err := eventstore.Verify(ctx, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			brk, want := res.Break, all[tc.broken]
			if brk == nil {
				t.Fatalf("tampering not detected: %+v", res)
			}
			if brk.Position != want.Position || brk.Version != want.Version || brk.Stream != "acct" {
				t.Fatalf("break at %v (%s@%d), want %v (acct@%d)", brk.Position, brk.Stream, brk.Version, want.Position, want.Version)
			}
			if !strings.HasPrefix(brk.Reason, tc.reason) {
				t.Fatalf("reason %q, want it to start with %q", brk.Reason, tc.reason)
			}
			if res.Events != uint64(tc.target) {
				t.Fatalf("%d events verified before the break, want %d", res.Events, tc.target)
			}
		})
	}
}
