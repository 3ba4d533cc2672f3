package invoicing

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// seedPostpaid writes n postpaid accounts (every other one B2B) with usage
// of two models in November 2026 into a real SQLite store.
func seedPostpaid(b *testing.B, path string, n int) {
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	opened := taipei(2026, 10, 1, 9, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				acct := fmt.Sprintf("acct-%05d", i)
				taxID := ""
				if i%2 == 0 {
					taxID = "22099131"
				}
				a, _ := commands.Event(domain.EventID("bench-open", acct), opened, &domain.AccountOpened{
					AccountID: acct, Organisation: "測試公司" + acct, TaxID: taxID, Plan: domain.PlanBusiness})
				if _, err := s.Append(ctx, domain.AccountStream(acct), eventstore.NoStream(), a); err != nil {
					errs <- err
					return
				}
				var usage []eventstore.EventData
				for k, model := range []string{"gpt-4o", "claude-sonnet", "gpt-4o"} {
					at := taipei(2026, 11, 1+k*9, 10, i%60)
					rc := &domain.RequestCompleted{RequestID: fmt.Sprintf("%s-%d", acct, k), AccountID: acct, Model: model,
						Usage: domain.Usage{Input: 120_000, Output: 30_000}, Cost: dec(fmt.Sprintf("%d.%04d", 100+i%900, i%10000)),
						StartedAt: at, Outcome: domain.OutcomeCompleted}
					d, _ := commands.Event(domain.EventID(domain.TypeRequestCompleted, rc.RequestID), at, rc)
					usage = append(usage, d)
				}
				if _, err := s.Append(ctx, domain.UsageStream(acct), eventstore.Any(), usage...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// BenchmarkMonthlyClose10k is the DESIGN figure (≤ 60 s on 2 cores): a
// fresh service folds the history of 10,000 postpaid accounts from SQLite,
// issues their invoices and writes every PDF to files with 2 workers.
// Run: go test ./invoicing -run '^$' -bench MonthlyClose10k -benchtime 1x
func BenchmarkMonthlyClose10k(b *testing.B) {
	accounts := 10_000
	if n, err := strconv.Atoi(os.Getenv("ROUTEFREE_BENCH_ACCOUNTS")); err == nil && n > 0 {
		accounts = n // a quicker look while profiling
	}
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		path := filepath.Join(dir, "events.db")
		seedPostpaid(b, path, accounts)
		s, err := sqlite.Open(path, sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c := &clock{t: taipei(2026, 11, 1, 0, 0)}
		setup, err := New(s, Config{Seller: DevSeller(), Now: c.Now})
		if err != nil {
			b.Fatal(err)
		}
		if err := setup.AssignRange(context.Background(), "2026-11", "AB", 10000000, 10099999); err != nil {
			b.Fatal(err)
		}
		c.Set(taipei(2026, 12, 1, 1, 0))
		svc, err := New(s, Config{Seller: DevSeller(), Now: c.Now})
		if err != nil {
			b.Fatal(err)
		}
		pdfDir := filepath.Join(dir, "pdf")
		start, cpu0 := time.Now(), cpuTime()
		b.StartTimer()
		rep, err := svc.Close(context.Background(), "2026-11", CloseOptions{PDFDir: pdfDir, Workers: 2})
		b.StopTimer()
		elapsed, cpu := time.Since(start), cpuTime()-cpu0
		if err != nil {
			b.Fatal(err)
		}
		files, _ := os.ReadDir(pdfDir)
		if len(rep.Issued) != accounts || rep.PDFs != accounts || len(files) != accounts {
			b.Fatalf("issued %d, PDFs %d, files %d", len(rep.Issued), rep.PDFs, len(files))
		}
		b.ReportMetric(elapsed.Seconds(), "close-s")
		b.ReportMetric(float64(accounts)/elapsed.Seconds(), "invoices/s")
		// CPU seconds of the process: on a shared machine, wall time also
		// counts other tenants; CPU / 2 cores is the figure on an idle one.
		b.ReportMetric(cpu.Seconds(), "cpu-s")
		s.Close()
		b.StartTimer()
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLedgerBytesPerInvoice measures what invoicing's in-memory ledger
// keeps for an account with one paid top-up, before and after that top-up
// is invoiced (B/account, B/invoice): the history that the gateway's memory
// figure is measured on holds no invoices, and each issued invoice adds
// this to the resident size of every process that runs invoicing. Each fold
// reads through a store opened afresh, whose in-memory tail holds nothing.
func BenchmarkLedgerBytesPerInvoice(b *testing.B) {
	const n = 2000
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, taipei(2026, 11, 10, 9, 0))
		e.assign("2026-11", "AB", 10_000_000, 10_099_999)
		for i := range n {
			id := fmt.Sprintf("acct-%05d", i)
			e.open(id, "公司 "+id, "", domain.PlanStarter)
			e.topUpRaw(id, "pay-"+id, "1000", taipei(2026, 11, 10, 9, 0))
		}
		fold := func() (*Service, *sqlite.Store) {
			st, err := sqlite.Open(e.path, sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			svc, err := New(st, Config{Seller: DevSeller(), Now: e.clock.Now})
			if err != nil {
				b.Fatal(err)
			}
			if err := svc.Sync(e.ctx); err != nil {
				b.Fatal(err)
			}
			return svc, st
		}
		h0 := liveHeap()
		s1, st1 := fold()
		h1 := liveHeap()
		if err := s1.InvoiceTopUps(e.ctx); err != nil {
			b.Fatal(err)
		}
		if got := len(s1.Invoices("", "")); got != n {
			b.Fatalf("%d invoices, want %d", got, n)
		}
		st1.Close() // s1 is no longer used: the collection below frees it
		h1b := liveHeap()
		s2, st2 := fold()
		h2 := liveHeap()
		without, with := h1-h0, h2-h1b // the fold's heap, store included
		b.ReportMetric(float64(without)/n, "B/account")
		b.ReportMetric(float64(with-without)/n, "B/invoice")
		runtime.KeepAlive(s2)
		st2.Close()
		b.StartTimer()
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
