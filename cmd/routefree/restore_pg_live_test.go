package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// TestServeStopsWhenItsPostgresHistoryIsRestoredUnderIt: a dump of the
// database restored in place of the live one while serve runs (the
// history goes back to the dump's: what came after is gone from the
// store). The serve's balances still hold what came after: it would admit
// against credit the history no longer gives, and bill beside figures no
// replay gives. It says so and stops (a supervisor starts it again on the
// restored history), rather than serving on; the serve started next
// serves the restored balances.
func TestServeStopsWhenItsPostgresHistoryIsRestoredUnderIt(t *testing.T) {
	pg := testenv.PostgresURL(t)
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "restored under it"}))
	store := []string{"--store", "postgres", "--postgres-url", pg}
	key := prepareDemo(t, env, store, 1000, "")
	p := startServe(t, append(env, "ROUTEFREE_METRICS_INTERVAL=200ms"), store...)
	before := keyBalance(t, p.base, key)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dumped int64 // the dump's last event
	if err := conn.QueryRow(ctx, "SELECT max(global_position) FROM events").Scan(&dumped); err != nil {
		t.Fatal(err)
	}
	runCLI(t, env, append([]string{"credits", "topup", "--account", "acct_demo", "--amount", "200", "--method", "bank-transfer",
		"--reference", "LOST-WITH-THE-RESTORE"}, store...)...)
	waitFor(t, 10*time.Second, func() bool { return keyBalance(t, p.base, key).Equal(before.Add(decimal.NewFromInt(200))) })

	// The restore: the history is the dump's again.
	if _, err := conn.Exec(ctx, "DELETE FROM events WHERE global_position > $1", dumped); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("serve serves on a history restored under it: balance %s on the serve, %s in the store", keyBalance(t, p.base, key), before)
	}
	if code := p.cmd.ProcessState.ExitCode(); code == 0 {
		t.Fatal("serve exited 0 on a history restored under it")
	}
	if logs := p.logs.String(); !strings.Contains(logs, "restore") {
		t.Fatalf("serve did not say why it stopped:\n%s", tail(logs, 2048))
	}

	p = startServe(t, env, store...)
	if got := keyBalance(t, p.base, key); !got.Equal(before) {
		t.Fatalf("the serve started on the restored history: balance %s, want %s", got, before)
	}
}
