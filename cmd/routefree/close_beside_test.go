package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

// lateUsage appends, as a gateway does, completed requests of the month
// just ended: streams started in its last second that finish now.
type lateUsage struct {
	store eventstore.Store
	month time.Time // its first instant, Taipei
	mu    sync.Mutex
	seq   int
	count map[string]int64 // requests per account
}

// add records one request of acct that started at the month's last second.
func (u *lateUsage) add(ctx context.Context, acct string) error {
	u.mu.Lock()
	u.seq++
	id := fmt.Sprintf("req-late-%s-%d", u.month.Format("2006-01"), u.seq)
	u.mu.Unlock()
	started := u.month.AddDate(0, 1, 0).Add(-time.Second)
	rc := &domain.RequestCompleted{RequestID: id, AccountID: acct, Model: "gpt-4o", Usage: domain.Usage{Input: 10, Output: 10},
		Cost: decimal.RequireFromString("12.35"), StartedAt: started.UTC(), Stream: true, Outcome: domain.OutcomeCompleted}
	d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, id), time.Now(), rc)
	if err != nil {
		return err
	}
	if _, err := u.store.Append(ctx, domain.UsageStream(acct), eventstore.Any(), d); err != nil {
		return err
	}
	u.mu.Lock()
	u.count[acct]++
	u.mu.Unlock()
	return nil
}

// closeRun is what one close said it did.
type closeRun struct {
	by       string
	issued   int
	existing int
	earlier  int // of the invoices issued, those of earlier months
	err      error
}

// cliClose runs `routefree invoices close` and reads its summary line
// and its invoices of other months than month.
func cliClose(env, store []string, month string) closeRun {
	cmd := exec.Command(binary, append([]string{"invoices", "close", "--month", month}, store...)...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return closeRun{by: "cli", err: fmt.Errorf("%v: %s", err, errb.String())}
	}
	m := regexp.MustCompile(`: (\d+) issued, (\d+) already invoiced`).FindStringSubmatch(out.String())
	if m == nil {
		return closeRun{by: "cli", err: fmt.Errorf("no summary in %q", out.String())}
	}
	n, _ := strconv.Atoi(m[1])
	existing, _ := strconv.Atoi(m[2])
	if lines := strings.Count(out.String(), "\nissued ") + boolInt(strings.HasPrefix(out.String(), "issued ")); lines != n {
		return closeRun{by: "cli", err: fmt.Errorf("summary says %d issued, %d invoices listed:\n%s", n, lines, out.String())}
	}
	earlier := 0
	for _, m := range regexp.MustCompile(`(?m)^issued .* for (\d{4}-\d{2})$`).FindAllStringSubmatch(out.String(), -1) {
		if m[1] != month {
			earlier++
		}
	}
	return closeRun{by: "cli", issued: n, existing: existing, earlier: earlier}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// apiClose closes month through a serve's admin API.
func apiClose(base, token, month string) closeRun {
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/api/invoices/close", strings.NewReader(`{"month":"`+month+`"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return closeRun{by: base, err: err}
	}
	defer resp.Body.Close()
	var rep struct {
		Issued []struct {
			Month string `json:"month"`
		} `json:"issued"`
		Existing int             `json:"existing"`
		Error    json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil || resp.StatusCode != http.StatusOK {
		return closeRun{by: base, err: fmt.Errorf("status %d, %v, error %s", resp.StatusCode, err, rep.Error)}
	}
	earlier := 0
	for _, inv := range rep.Issued {
		if inv.Month != month {
			earlier++
		}
	}
	return closeRun{by: base, issued: len(rep.Issued), existing: rep.Existing, earlier: earlier}
}

// staffToken issues a staff token of role with the CLI.
func staffToken(t *testing.T, env, store []string, role string) string {
	t.Helper()
	for _, line := range strings.Split(runCLI(t, env, append([]string{"staff", "issue", "--role", role, "--name", role}, store...)...), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "token:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("staff issue printed no token")
	return ""
}

// apiJSON GETs path from a serve with a bearer token, decoding a 200's
// body into out (when not nil), and returns the status.
func apiJSON(t *testing.T, base, path, token string, out any) int {
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Errorf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// closedLogged sums the invoices a serve's projector logged as issued by
// its own closes.
func closedLogged(logs string) int {
	n := 0
	for _, m := range regexp.MustCompile(`"msg":"invoicing: month closed".*?"issued":(\d+)`).FindAllStringSubmatch(logs, -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

// TestCloseBesideBillingServes: on SQLite and PostgreSQL, the month just
// ended is closed again and again — by the CLI and through the admin APIs
// of two serves, at once — while both serves answer streamed and unary
// requests and requests of that month that started in its last second
// keep completing. No request fails; each late request is on exactly one
// invoice (the close's or a supplementary one), so that invoiced = used
// for every account once a last close has run, with the live
// reconciliation and a replay from the first event agreeing; the
// period's numbers run from the range's first without a gap or a
// repeat; and every invoice is reported issued by exactly one close.
func TestCloseBesideBillingServes(t *testing.T) {
	for _, sc := range sharedStores() {
		t.Run(sc.name, func(t *testing.T) {
			up := fakeUpstream(t, providertest.Script{Text: "billed beside the close", Chunks: 4, ChunkDelay: time.Millisecond})
			env := append(baseEnv(up), "ROUTEFREE_LOG_LEVEL=info")
			store := sc.args(t)
			key := prepareDemo(t, env, store, 1_000_000, "100000")
			with := func(args ...string) []string { return append(args, store...) }

			now := time.Now().In(twrules.Taipei)
			thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, twrules.Taipei)
			last := thisMonth.AddDate(0, -1, 0)
			month := last.Format("2006-01")
			const first = 10000000
			runCLI(t, env, with("invoices", "range", "--period", twrules.PeriodOf(now).String(), "--prefix", "AB",
				"--from", strconv.Itoa(first), "--to", strconv.Itoa(first+999))...)
			const accounts = 4
			var accts []string
			for i := range accounts {
				acct := fmt.Sprintf("acct_late_%d", i)
				runCLI(t, env, with("accounts", "open", "--id", acct, "--organisation", "遲到用量"+strconv.Itoa(i), "--plan", "business")...)
				accts = append(accts, acct)
			}
			finance := staffToken(t, env, store, "finance")

			s := sc.open(t, store)
			defer s.Close()
			ctx := context.Background()
			late := &lateUsage{store: s, month: last, count: map[string]int64{}}
			for _, a := range accts {
				if err := late.add(ctx, a); err != nil {
					t.Fatal(err)
				}
			}

			// Two serves: each closes the month it finds due on its own.
			rurl, prefix := testenv.RedisURL(t)
			shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
			a := startServe(t, env, shared...)
			b := startServe(t, env, shared...)
			bases := []string{a.base, b.base}
			for _, base := range bases {
				waitFor(t, 5*time.Second, func() bool {
					return keyStatus(base, key) == http.StatusOK && apiJSON(t, base, "/admin/api/invoices?month="+month, finance, nil) == http.StatusOK
				})
			}

			loadCtx, stopLoad := context.WithCancel(ctx)
			results := make(chan []outcome, len(bases))
			var served atomic.Int64
			for _, base := range bases {
				go func() { results <- load(loadCtx, base, key, 2, &served) }()
			}
			usageCtx, stopUsage := context.WithCancel(ctx)
			usageErr := make(chan error, 1)
			go func() {
				for i := 0; usageCtx.Err() == nil; i++ {
					if err := late.add(ctx, accts[i%accounts]); err != nil {
						usageErr <- err
						return
					}
					time.Sleep(3 * time.Millisecond)
				}
				usageErr <- nil
			}()

			var runs []closeRun
			// Closes go on until the load has met them: at least 40
			// requests, however slow a busy machine makes each.
			for began := time.Now(); len(runs) < 9 || time.Since(began) < 2*time.Second || (served.Load() < 40 && time.Since(began) < time.Minute); {
				var wg sync.WaitGroup
				out := make(chan closeRun, 3)
				wg.Add(3)
				go func() { defer wg.Done(); out <- cliClose(env, store, month) }()
				for _, base := range bases {
					go func() { defer wg.Done(); out <- apiClose(base, finance, month) }()
				}
				wg.Wait()
				close(out)
				for r := range out {
					if r.err != nil {
						t.Errorf("close by %s: %v", r.by, r.err)
					}
					runs = append(runs, r)
				}
			}
			stopUsage()
			if err := <-usageErr; err != nil {
				t.Fatal(err)
			}
			// The late usage since the last of them: one close bills it,
			// the next finds nothing.
			runs = append(runs, cliClose(env, store, month))
			again := apiClose(a.base, finance, month)
			if again.err != nil || again.issued != 0 {
				t.Errorf("a close after the last one: %+v, want nothing issued", again)
			}
			stopLoad()
			for range bases {
				checkLoad(t, <-results)
			}

			// The live reconciliation of a serve: invoiced = used.
			var rec invoicing.Reconciliation
			waitFor(t, 5*time.Second, func() bool {
				return apiJSON(t, a.base, "/admin/api/invoices/reconciliation?month="+month, finance, &rec) == http.StatusOK
			})
			fresh, err := invoicing.New(s, invoicing.Config{Seller: invoicing.DevSeller()})
			if err != nil {
				t.Fatal(err)
			}
			replayed, err := fresh.Reconcile(ctx, month)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range [][]invoicing.ReconcileRow{rec.Rows, replayed.Rows} {
				rows := map[string]invoicing.ReconcileRow{}
				for _, row := range r {
					rows[row.AccountID] = row
				}
				for _, acct := range accts {
					row := rows[acct]
					used := decimal.RequireFromString("12.35").Mul(decimal.NewFromInt(late.count[acct]))
					if !row.Used.Equal(used) || !row.Invoiced.Equal(used) || !row.Pending.IsZero() {
						t.Errorf("%s, %d requests of %s: used %s, invoiced %s, pending %s; want %s each invoiced",
							acct, late.count[acct], month, row.Used, row.Invoiced, row.Pending, used)
					}
				}
			}
			// Each request on exactly one invoice; the period's numbers in a run.
			invs := fresh.Invoices(month, "")
			requests := map[string]int64{}
			for _, inv := range invs {
				for _, u := range inv.Usage {
					requests[inv.AccountID] += u.Requests
				}
			}
			for _, acct := range accts {
				if requests[acct] != late.count[acct] {
					t.Errorf("%s: %d requests on its invoices of %s, %d made", acct, requests[acct], month, late.count[acct])
				}
			}
			numbers := fresh.PeriodInvoices(twrules.PeriodOf(now).String())
			var got []string
			for _, inv := range numbers {
				got = append(got, inv.Number)
			}
			sort.Strings(got)
			for i, n := range got {
				if want := fmt.Sprintf("AB%08d", first+i); n != want {
					t.Fatalf("the period's numbers %v: #%d is %s, want %s (no gap, no repeat)", got, i, n, want)
				}
			}
			// Every invoice reported issued once, by a close that issued it.
			issued := 0
			for _, r := range runs {
				issued += r.issued
			}
			for _, p := range []*proc{a, b} {
				if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
					t.Fatalf("serve exit status %d", code)
				}
				issued += closedLogged(p.logs.String())
			}
			if issued != len(invs) {
				t.Errorf("the closes reported %d invoices issued; %d were (closes %+v)", issued, len(invs), runs)
			}
			t.Logf("%d late requests, %d invoices of %s, %d closes", late.seq, len(invs), month, len(runs))

			// A replay prints the month's invoices as the ledger counts them.
			figs, err := projections.Replay(ctx, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			figs.CountInvoices(fresh.RecordMonth)
			var total int64
			for _, inv := range invs {
				total += inv.Net()
			}
			if figs.InvoiceTotals[month] != total || !figs.MonthlyTotals[month].Equal(rec.Totals.Used) {
				t.Errorf("replay: invoiced %d, used %s; the live ledger %d, %s", figs.InvoiceTotals[month], figs.MonthlyTotals[month], total, rec.Totals.Used)
			}
			verifyStore(t, env, store)
		})
	}
}

// TestClosesAtOnceOfManyAccounts: on SQLite and PostgreSQL, the CLI and
// the admin APIs of two serves close one month at once, for more accounts
// than one append numbers, each with usage of the month and of the month
// before, never invoiced. Each account gets one invoice of each month,
// the period's numbers run without a gap or a repeat, and each close
// reports every account of the month once: its invoice issued by this
// close, or already invoiced; the CLI names the month of an earlier
// month's invoice it issues.
func TestClosesAtOnceOfManyAccounts(t *testing.T) {
	for _, sc := range sharedStores() {
		t.Run(sc.name, func(t *testing.T) {
			env := baseEnv(fakeUpstream(t, providertest.Script{Text: "unused"}))
			store := sc.args(t)
			prepareDemo(t, env, store, 1000, "")
			with := func(args ...string) []string { return append(args, store...) }
			now := time.Now().In(twrules.Taipei)
			last := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, twrules.Taipei).AddDate(0, -1, 0)
			month := last.Format("2006-01")
			const first = 20000000
			runCLI(t, env, with("invoices", "range", "--period", twrules.PeriodOf(now).String(), "--prefix", "AB",
				"--from", strconv.Itoa(first), "--to", strconv.Itoa(first+9999))...)
			finance := staffToken(t, env, store, "finance")
			rurl, prefix := testenv.RedisURL(t)
			shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
			// Each serve closes the month once when it starts, on a
			// goroutine of its own that may run after it listens: the
			// accounts below are made once both have (their logs say so),
			// so that the three closes of the test are the only ones that
			// can issue their invoices. In the first hour of a month none
			// is due yet.
			logged := append(append([]string{}, env...), "ROUTEFREE_LOG_LEVEL=info")
			a := startServe(t, logged, shared...)
			b := startServe(t, logged, shared...)
			if now.Sub(last.AddDate(0, 1, 0)) > time.Hour {
				for _, p := range []*proc{a, b} {
					end := time.Now().Add(60 * time.Second)
					for !strings.Contains(p.logs.String(), "invoicing: month closed") {
						if time.Now().After(end) {
							t.Fatalf("serve did not close %s at its start within a minute:\n%s", month, p.logs.String())
						}
						time.Sleep(20 * time.Millisecond)
					}
				}
			}

			s := sc.open(t, store)
			defer s.Close()
			ctx := context.Background()
			cmds := &commands.Handler{Store: s, Now: time.Now}
			const accounts = 300
			late := &lateUsage{store: s, month: last, count: map[string]int64{}}
			before := &lateUsage{store: s, month: last.AddDate(0, -1, 0), count: map[string]int64{}}
			for i := range accounts {
				acct := fmt.Sprintf("acct_many_%04d", i)
				if _, err := cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: acct, Organisation: "多帳戶" + strconv.Itoa(i), Plan: domain.PlanBusiness}); err != nil {
					t.Fatal(err)
				}
				if err := late.add(ctx, acct); err != nil {
					t.Fatal(err)
				}
				if err := before.add(ctx, acct); err != nil {
					t.Fatal(err)
				}
			}
			for _, base := range []string{a.base, b.base} {
				waitFor(t, 10*time.Second, func() bool {
					var rec invoicing.Reconciliation
					return apiJSON(t, base, "/admin/api/invoices/reconciliation?month="+month, finance, &rec) == http.StatusOK && len(rec.Rows) == accounts
				})
			}

			out := make(chan closeRun, 3)
			go func() { out <- cliClose(env, store, month) }()
			go func() { out <- apiClose(a.base, finance, month) }()
			go func() { out <- apiClose(b.base, finance, month) }()
			issued := 0
			for range 3 {
				r := <-out
				if r.err != nil {
					t.Fatalf("close by %s: %v", r.by, r.err)
				}
				ofMonth := r.issued - r.earlier
				if ofMonth+r.existing != accounts {
					t.Errorf("close by %s: %d invoices of %s issued (and %d of earlier months) and %d accounts already invoiced, of %d accounts",
						r.by, ofMonth, month, r.earlier, r.existing, accounts)
				}
				issued += r.issued
				t.Logf("close by %s: %d issued (%d of earlier months), %d already invoiced", r.by, r.issued, r.earlier, r.existing)
			}
			// An account whose only usage is of the month before: the CLI
			// says which month the invoice it issues bills.
			if _, err := cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: "acct_many_last", Organisation: "多帳戶最後", Plan: domain.PlanBusiness}); err != nil {
				t.Fatal(err)
			}
			if err := before.add(ctx, "acct_many_last"); err != nil {
				t.Fatal(err)
			}
			if r := cliClose(env, store, month); r.err != nil || r.issued != 1 || r.earlier != 1 || r.existing != accounts {
				t.Errorf("the CLI's close of %s after an account's usage of the month before: %+v; want 1 issued, for the month before, and %d already invoiced", month, r, accounts)
			}
			fresh, err := invoicing.New(s, invoicing.Config{Seller: invoicing.DevSeller()})
			if err != nil {
				t.Fatal(err)
			}
			if err := fresh.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			for m, want := range map[string]int{month: accounts, last.AddDate(0, -1, 0).Format("2006-01"): accounts + 1} {
				invs := fresh.Invoices(m, "")
				perAccount := map[string]int{}
				for _, inv := range invs {
					perAccount[inv.AccountID]++
				}
				if len(invs) != want || len(perAccount) != want {
					t.Fatalf("%d invoices of %s for %d accounts; want one for each of %d", len(invs), m, len(perAccount), want)
				}
			}
			if issued != 2*accounts {
				t.Errorf("the closes at once reported %d invoices issued, %d were", issued, 2*accounts)
			}
			numbers := make([]string, 0, 2*accounts+1)
			for _, inv := range fresh.PeriodInvoices(twrules.PeriodOf(now).String()) {
				numbers = append(numbers, inv.Number)
			}
			sort.Strings(numbers)
			for i, n := range numbers {
				if want := fmt.Sprintf("AB%08d", first+i); n != want {
					t.Fatalf("number #%d is %s, want %s (no gap, no repeat)", i, n, want)
				}
			}
		})
	}
}
