package main

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	_ "modernc.org/sqlite"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// runVerify runs `events verify` and returns its output and exit status.
func runVerify(t *testing.T, env []string, storeArgs ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"events", "verify"}, storeArgs...)...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return out.String() + errb.String(), cmd.ProcessState.ExitCode()
}

// cutNewestEvents has serve apply three top-ups made beside it, stops it,
// checks that the whole store verifies, then has cut delete the two newest
// events and say the position now last.
func cutNewestEvents(t *testing.T, env, storeArgs []string, cut func() (kept string)) string {
	t.Helper()
	key := prepareDemo(t, env, storeArgs, 1000, "")
	p := startServe(t, env, storeArgs...)
	before := keyBalance(t, p.base, key)
	for i := range 3 {
		runCLI(t, env, append([]string{"credits", "topup", "--account", "acct_demo", "--amount", "100", "--method", "bank-transfer",
			"--reference", fmt.Sprintf("HEAD-%d", i)}, storeArgs...)...)
	}
	waitFor(t, 10*time.Second, func() bool { return keyBalance(t, p.base, key).Equal(before.Add(decimal.NewFromInt(300))) })
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if out, code := runVerify(t, env, storeArgs...); code != 0 || !strings.Contains(out, "the store holds that event") {
		t.Fatalf("verify of the whole store: exit %d\n%s", code, out)
	}
	return cut()
}

// Deleting the newest events leaves a shorter chain that verifies; the
// read models beside the store recorded how far the history went when
// serve applied it, and `events verify` compares the store's head with
// that record: it says that the events after the new head were deleted
// and fails, where it printed OK and the shorter count. Events appended
// after the cut do not hide it.
func TestVerifySaysTheNewestEventsWereDeleted(t *testing.T) {
	dir := t.TempDir()
	env := append(baseEnv(fakeUpstream(t, providertest.Script{Text: "cut"})), "ROUTEFREE_DATA_DIR="+dir)
	kept := cutNewestEvents(t, env, nil, func() (kept string) {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db")+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var keep int64
		if err := db.QueryRow(`SELECT position FROM events ORDER BY position DESC LIMIT 1 OFFSET 2`).Scan(&keep); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`DELETE FROM events WHERE position > ?`, keep); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d/%d", keep, keep)
	})
	out, code := runVerify(t, env)
	if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "events after position "+kept+" were deleted") {
		t.Fatalf("verify of a store whose newest events were deleted: exit %d, want 1 saying events after position %s were deleted\n%s", code, kept, out)
	}

	// Appended past the position the read models reached: the event they
	// applied there is not the store's.
	for i := range 3 {
		runCLI(t, env, "credits", "topup", "--account", "acct_demo", "--amount", "100", "--method", "bank-transfer",
			"--reference", fmt.Sprintf("AFTER-THE-CUT-%d", i))
	}
	out, code = runVerify(t, env)
	if code != 1 || !strings.Contains(out, "FAIL the store no longer holds event") || !strings.Contains(out, "deleted") {
		t.Fatalf("verify of a store cut and appended to since: exit %d, want 1 saying events were deleted\n%s", code, out)
	}
}

// The same on PostgreSQL, whose read models' checkpoint lives beside the
// events in the database.
func TestVerifySaysTheNewestEventsWereDeletedOnPostgres(t *testing.T) {
	pg := testenv.PostgresURL(t)
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "cut"}))
	store := []string{"--store", "postgres", "--postgres-url", pg}
	kept := cutNewestEvents(t, env, store, func() (kept string) {
		db, err := sql.Open("pgx", pg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var keep int64
		if err := db.QueryRow(`SELECT transaction_id::text || '/' || global_position, global_position FROM events
			ORDER BY global_position DESC LIMIT 1 OFFSET 2`).Scan(&kept, &keep); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`DELETE FROM events WHERE global_position > $1`, keep); err != nil {
			t.Fatal(err)
		}
		return kept
	})
	out, code := runVerify(t, env, store...)
	if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "events after position "+kept+" were deleted") {
		t.Fatalf("verify of a store whose newest events were deleted: exit %d, want 1 saying events after position %s were deleted\n%s", code, kept, out)
	}
}

// A store without read models beside it (written by `events generate`, or
// copied alone) has no record of how far its history went: `events verify`
// says that it could not check the head, rather than reading as complete.
func TestVerifySaysWhenNothingRecordsTheHead(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "events", "generate", "--events", "50", "--accounts", "2")
	out, code := runVerify(t, env)
	if code != 0 || !strings.Contains(out, "OK 50 events") || !strings.Contains(out, "compare the chain head with one noted earlier") {
		t.Fatalf("verify of a store without read models: exit %d\n%s", code, out)
	}
}
