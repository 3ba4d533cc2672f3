package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// tamperedCell is a generated history with one cell of its store edited
// by hand, as a database browser writes what is typed into a cell: text,
// whatever the column held. It returns the data directory and the
// position of the edited event, a request in the middle of the history.
func tamperedCell(t *testing.T, set string, value any) (dir string, pos int64) {
	t.Helper()
	dir = t.TempDir()
	mustCLI(t, "events", "generate", "--events", "300", "--accounts", "10", "--data-dir", dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT position FROM events WHERE type = ? ORDER BY position LIMIT 1 OFFSET 20`,
		domain.TypeRequestCompleted).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET `+set+` = ? WHERE position = ?`, value, pos); err != nil {
		t.Fatal(err)
	}
	return dir, pos
}

// cliWithin runs a command in-process and fails the test if it has not
// ended within a minute: a command that waits for ever on a store it
// cannot read tells an auditor nothing.
func cliWithin(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		var o, e strings.Builder
		c := run(ctx, args, &o, &e)
		done <- result{c, o.String(), e.String()}
	}()
	select {
	case r := <-done:
		return r.code, r.out, r.err
	case <-time.After(time.Minute):
		cancel()
		t.Fatalf("routefree %s did not end within a minute", strings.Join(args, " "))
		return 0, "", ""
	}
}

// An event whose stored cell no longer holds what its column does (a date
// typed over occurred_at's nanoseconds, a word over its version) was
// edited: `events verify` names it as the first broken event, as it names
// an edited body, rather than failing on the cell with no event named;
// `replay` and `accounts show`, which fold the history, refuse it naming
// it too, where they waited for ever retrying the read.
func TestAnEditedCellIsNamedAsTheFirstBrokenEvent(t *testing.T) {
	for _, c := range []struct {
		column string
		value  any
	}{{"occurred_at", "2026-10-01"}, {"version", "three"}} {
		t.Run(c.column, func(t *testing.T) {
			dir, pos := tamperedCell(t, c.column, c.value)
			at := fmt.Sprintf("position %d/%d", pos, pos)
			code, out, errs := cliWithin(t, "events", "verify", "--data-dir", dir)
			if code == 0 || !strings.Contains(out, "FAIL hash chain broken at "+at) || !strings.Contains(out, c.column) || !strings.Contains(out, "edited") {
				t.Errorf("events verify: exit %d\n%s%s", code, out, errs)
			}
			if !strings.Contains(out, fmt.Sprintf("verified %d events", pos-1)) && !strings.Contains(errs, fmt.Sprintf("verified %d events", pos-1)) {
				t.Errorf("events verify does not say the %d events before it verified:\n%s%s", pos-1, out, errs)
			}
			code, out, errs = cliWithin(t, "replay", "--data-dir", dir)
			if code == 0 || !strings.Contains(out+errs, "hash chain broken at "+at) {
				t.Errorf("replay: exit %d\n%s%s", code, out, errs)
			}
			code, out, errs = cliWithin(t, "accounts", "show", "--account", "acct_gen00001", "--data-dir", dir)
			if code == 0 || !strings.Contains(errs, at) {
				t.Errorf("accounts show: exit %d\n%s%s", code, out, errs)
			}
		})
	}
}

// An edited body that no projection can decode: `replay` gives the hash
// chain's verdict, naming the edited event, before what the projections
// could not read, as it does for an edit they can.
func TestReplayNamesAnEditedBodyItCannotFold(t *testing.T) {
	dir, pos := tamperedCell(t, "data", []byte(`{"cost":"a lot"}`))
	code, out, errs := cliWithin(t, "replay", "--data-dir", dir)
	want := fmt.Sprintf("hash chain broken at position %d/%d", pos, pos)
	if code == 0 || !strings.Contains(errs, want) || !strings.Contains(errs, "content does not match its hash") {
		t.Fatalf("replay: exit %d, want it to say %q:\n%s%s", code, want, out, errs)
	}
}
