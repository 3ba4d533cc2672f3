package invoicing

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
