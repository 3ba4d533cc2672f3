package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/migrations"
)

// holdsOpen tells whether process pid has the file path open.
func holdsOpen(pid int, path string) bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}

// TestServesStartedTogetherOnANewDirectory: serves sharing Redis, started
// at once on a new SQLite data directory (a deployment's first start), all
// set up the read models beside each other and serve. The test holds the
// read models' write lock until every serve is at them, so that they go
// on together, as instances a supervisor starts at once do; each
// found the migrations to apply, and one that applied one another had
// applied failed to start.
func TestServesStartedTogetherOnANewDirectory(t *testing.T) {
	rurl, prefix := testenv.RedisURL(t)
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "together", Chunks: 2}))
	dir := t.TempDir()
	readModels := filepath.Join(dir, "readmodels.db")
	db, err := sql.Open("sqlite", sqlite.URI(readModels, "_pragma=journal_mode(WAL)"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// As far as a serve killed a moment after it began: goose's version
	// table made, no migration applied.
	gp, err := goose.NewProvider(goose.DialectSQLite3, db, migrations.ReadModels(), goose.WithTableName(migrations.ReadModelsTable))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gp.GetDBVersion(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	const n = 4
	procs := make([]*proc, n)
	ups := make([]<-chan struct{}, n)
	for i := range procs {
		procs[i], ups[i] = launchServe(t, env, "--data-dir", dir, "--redis-url", rurl, "--redis-prefix", prefix)
	}
	// Every serve has claimed the store (serve.lock), the step before its
	// read models, and one of them waits on the lock; the others get a
	// moment to reach it too.
	serveLock := filepath.Join(dir, "serve.lock")
	for _, p := range procs {
		waitFor(t, 60*time.Second, func() bool {
			select {
			case <-p.exited:
				t.Fatalf("serve exited before it set up its read models: %v\n%s", p.exitErr, p.logs.String())
			default:
			}
			return holdsOpen(p.cmd.Process.Pid, serveLock)
		})
	}
	waitFor(t, 60*time.Second, func() bool {
		for _, p := range procs {
			if holdsOpen(p.cmd.Process.Pid, readModels) {
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond)
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db.Close()
	for i, p := range procs {
		p.waitListening(ups[i])
	}
	for _, p := range procs {
		if st := getStatus(p.base + "/healthz"); st != 200 {
			t.Fatalf("/healthz: %d", st)
		}
		if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Fatalf("serve exit status %d\n%s", code, p.logs.String())
		}
	}
}
