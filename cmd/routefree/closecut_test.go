package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

// TestCloseCutByPostgresThenAKilledServe: a monthly close asked of one
// serve's admin API has its PostgreSQL sessions ended under it, then the
// serve is killed (kill -9) mid-close; a second serve's close finishes the
// month. Each account gets one invoice, the numbers run without a gap or
// a repeat, and the second close reports every account once.
func TestCloseCutByPostgresThenAKilledServe(t *testing.T) {
	direct := testenv.PostgresURL(t)
	app := "rf_close_" + testenv.Suffix()
	store := []string{"--store", "postgres", "--postgres-url", withApplicationName(t, direct, app)}
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "unused"}))
	prepareDemo(t, env, store, 1000, "")
	now := time.Now().In(twrules.Taipei)
	last := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, twrules.Taipei).AddDate(0, -1, 0)
	month := last.Format("2006-01")
	const first = 30000000
	finance := staffToken(t, env, store, "finance")
	rurl, prefix := testenv.RedisURL(t)
	shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)

	s, err := postgres.Open(context.Background(), direct, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	cmds := &commands.Handler{Store: s, Now: time.Now}
	const accounts = 2000
	late := &lateUsage{store: s, month: last, count: map[string]int64{}}
	for i := range accounts {
		acct := fmt.Sprintf("acct_cut_%04d", i)
		if _, err := cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: acct, Organisation: "切斷" + strconv.Itoa(i), Plan: domain.PlanBusiness}); err != nil {
			t.Fatal(err)
		}
		if err := late.add(ctx, acct); err != nil {
			t.Fatal(err)
		}
	}
	a := startServe(t, env, shared...)
	waitFor(t, 20*time.Second, func() bool {
		var rec invoicing.Reconciliation
		return apiJSON(t, a.base, "/admin/api/invoices/reconciliation?month="+month, finance, &rec) == http.StatusOK && len(rec.Rows) == accounts
	})

	// The number range arrives: the serve closes the month by itself, and
	// is asked to through its admin API too.
	runCLI(t, env, append([]string{"invoices", "range", "--period", twrules.PeriodOf(last).String(), "--prefix", "AB",
		"--from", strconv.Itoa(first), "--to", strconv.Itoa(first + 9999)}, store...)...)
	done := make(chan closeRun, 1)
	go func() { done <- apiClose(a.base, finance, month) }()
	time.Sleep(100 * time.Millisecond)
	cut := terminateBackends(t, direct, app)
	time.Sleep(200 * time.Millisecond)
	a.stop(syscall.SIGKILL, 10*time.Second)
	r := <-done
	t.Logf("%d sessions ended; the killed serve's close: %d issued, %v; %d invoices issued before the kill",
		cut, r.issued, r.err, issuedOf(t, s, month))

	b := startServe(t, env, shared...)
	var r2 closeRun
	waitFor(t, 60*time.Second, func() bool {
		r2 = apiClose(b.base, finance, month)
		return r2.err == nil
	})
	if r2.issued+r2.existing != accounts {
		t.Errorf("the second close: %d issued, %d already invoiced, of %d accounts", r2.issued, r2.existing, accounts)
	}
	t.Logf("the second close: %+v", r2)

	fresh, err := invoicing.New(s, invoicing.Config{Seller: invoicing.DevSeller()})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	perAccount := map[string]int{}
	for _, inv := range fresh.Invoices(month, "") {
		perAccount[inv.AccountID]++
	}
	for acct, n := range perAccount {
		if n != 1 {
			t.Errorf("%s has %d invoices of %s", acct, n, month)
		}
	}
	if len(perAccount) != accounts {
		t.Errorf("%d accounts invoiced for %s, want %d", len(perAccount), month, accounts)
	}
	var numbers []string
	for _, inv := range fresh.PeriodInvoices(twrules.PeriodOf(last).String()) {
		numbers = append(numbers, inv.Number)
	}
	sort.Strings(numbers)
	for i, n := range numbers {
		if want := fmt.Sprintf("AB%08d", first+i); n != want {
			t.Fatalf("number #%d is %s, want %s (no gap, no repeat)", i, n, want)
		}
	}
}

// issuedOf counts the invoices of month in the store.
func issuedOf(t *testing.T, s eventstore.Store, month string) int {
	t.Helper()
	n := 0
	eachEvent(t, s, domain.TypeInvoiceIssued, func(data []byte) {
		var inv domain.InvoiceIssued
		if err := json.Unmarshal(data, &inv); err != nil {
			t.Fatal(err)
		}
		if inv.Month == month {
			n++
		}
	})
	return n
}
