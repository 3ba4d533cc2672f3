package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// A serve stopped (SIGTERM, as a supervisor stops a service) while its
// monthly close is issuing invoices stops as asked: exit status 0 and no
// error logged for the close it was told to leave (an alert for a stop
// the operator asked for). The next start issues the rest, each account's
// invoice once.
func TestServeStoppedDuringItsMonthlyCloseFinishesItOnRestart(t *testing.T) {
	env := append(baseEnv(fakeUpstream(t, providertest.Script{Text: "unused"})), "ROUTEFREE_LOG_LEVEL=info")
	dir := storeDir(t)
	now := time.Now().In(twrules.Taipei)
	last := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, twrules.Taipei).AddDate(0, -1, 0)
	month := last.Format("2006-01")
	if now.Sub(last.AddDate(0, 1, 0)) < time.Hour {
		t.Skip("in a month's first hour no close is due at start")
	}
	runCLI(t, env, "invoices", "range", "--data-dir", dir, "--period", twrules.PeriodOf(now).String(), "--prefix", "AB",
		"--from", "30000000", "--to", "30009999")

	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cmds := &commands.Handler{Store: s, Now: time.Now}
	late := &lateUsage{store: s, month: last, count: map[string]int64{}}
	const accounts = 3000
	var wg sync.WaitGroup
	errs := make(chan error, accounts)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < accounts; i += 8 {
				acct := fmt.Sprintf("acct_stop_%04d", i)
				if _, err := cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: acct, Organisation: "停止公司" + strconv.Itoa(i), Plan: domain.PlanBusiness}); err != nil {
					errs <- err
					return
				}
				if err := late.add(ctx, acct); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", sqlite.URI(filepath.Join(dir, "events.db"), "mode=ro&_pragma=busy_timeout(1000)"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	issued := func() int {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM events WHERE type = ?", domain.TypeInvoiceIssued).Scan(&n); err != nil {
			return -1
		}
		return n
	}

	p, _ := launchServe(t, env, "--data-dir", dir)
	waitFor(t, 120*time.Second, func() bool { return issued() > 0 })
	if strings.Contains(p.logs.String(), "invoicing: month closed") {
		t.Fatalf("the close of %d accounts ended before serve could be stopped during it", accounts)
	}
	if code := p.stop(syscall.SIGTERM, 60*time.Second); code != 0 {
		t.Errorf("serve stopped during its close: exit status %d\n%s", code, tail(p.logs.String(), 2048))
	}
	stoppedAt := issued()
	if stoppedAt >= accounts {
		t.Fatalf("the close issued all %d invoices before serve stopped", stoppedAt)
	}
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("serve stopped during its close logged an error:\n%s", line)
		}
	}
	t.Logf("stopped after %d of %d invoices", stoppedAt, accounts)

	p = startServe(t, env, "--data-dir", dir)
	waitFor(t, 120*time.Second, func() bool { return strings.Contains(p.logs.String(), "invoicing: month closed") })
	if code := p.stop(syscall.SIGTERM, 60*time.Second); code != 0 {
		t.Errorf("serve exit status %d", code)
	}
	if n := issued(); n != accounts {
		t.Errorf("%d invoices of %s after the restart, want one for each of %d accounts", n, month, accounts)
	}
}
