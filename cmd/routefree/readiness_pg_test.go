package main

import (
	"context"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// TestReadyzWhilePostgresRefusesAppends runs serve as a PostgreSQL role
// that loses its INSERT privilege on the events (a revoked grant, as a
// database administrator's mistake makes one): reads still work, every
// append fails. /readyz and /metrics answer not ready for as long as that
// lasts, not only for a few seconds after a failed request, so that a load
// balancer sends no request that would reach an upstream and then go
// unrecorded. Granted again, the instance is ready and serves.
func TestReadyzWhilePostgresRefusesAppends(t *testing.T) {
	admin := testenv.PostgresURL(t)
	role := "rf_writer_" + testenv.Suffix()
	exec := func(sql string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	exec("CREATE ROLE " + role + " LOGIN")
	t.Cleanup(func() {
		exec("DROP OWNED BY " + role)
		exec("DROP ROLE " + role)
	})
	exec("GRANT USAGE, CREATE ON SCHEMA " + schema + " TO " + role)
	u.User = url.User(role)
	store := []string{"--store", "postgres", "--postgres-url", u.String()}

	up := fakeUpstream(t, providertest.Script{Text: "no insert", Chunks: 2})
	env := baseEnv(up)
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	p := startServe(t, append(env, "ROUTEFREE_METRICS_INTERVAL=100ms"), store...)
	waitFor(t, 5*time.Second, func() bool { return keyStatus(p.base, key) == http.StatusOK })
	if st := chatStatus(p.base, key); st != http.StatusOK {
		t.Fatalf("before the revoke: %d", st)
	}

	exec("REVOKE INSERT ON " + schema + ".events FROM " + role)
	if st := chatStatus(p.base, key); st != http.StatusServiceUnavailable {
		t.Fatalf("without INSERT on the events: status %d, want 503", st)
	}
	for end := time.Now().Add(appendFailWindow + 2*time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if st := getStatus(p.base + "/readyz"); st != http.StatusServiceUnavailable {
			t.Fatalf("/readyz while every append fails: %d", st)
		}
	}
	if metric(p.base, "routefree_ready") != 0 || metric(p.base, "routefree_event_store_up") != 0 {
		t.Fatal("/metrics says ready while every append fails")
	}

	exec("GRANT INSERT ON " + schema + ".events TO " + role)
	waitFor(t, 5*time.Second, func() bool { return getStatus(p.base+"/readyz") == http.StatusOK })
	if st := chatStatus(p.base, key); st != http.StatusOK {
		t.Fatalf("after the grant: %d", st)
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}
