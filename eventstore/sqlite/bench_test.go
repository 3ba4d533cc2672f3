package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// usage is a realistic ~200-byte usage event with a time-ordered (v7) ID.
func usage(i int) eventstore.EventData {
	return eventstore.EventData{
		ID: uuid.Must(uuid.NewV7()), Type: "RequestCompleted", SchemaVersion: 1, OccurredAt: time.Now().UTC(),
		Data: fmt.Appendf(nil, `{"request_id":"req-%d","key":"k_8f3a","model":"gpt-4o-mini","upstream":"openai","tokens_in":512,"tokens_out":128,"cost":"0.012345","latency_ms":231,"stream":false}`, i),
	}
}

// BenchmarkAppend measures single-event appends, as the gateway makes them,
// from 1 and 64 concurrent appenders under synchronous=FULL, and 100-event
// appends from one appender (the writer's capacity when batches are full). IDs are v7
// (time-ordered, what the gateway should mint) or v4 (random: every event
// dirties a different page of the event_id index).
func BenchmarkAppend(b *testing.B) {
	for _, c := range []struct {
		appenders, perAppend int
		ids                  string
	}{{1, 1, "v7"}, {64, 1, "v7"}, {64, 1, "v4"}, {1, 100, "v7"}} {
		appenders := c.appenders
		b.Run(fmt.Sprintf("appenders=%d/events=%d/ids=%s", appenders, c.perAppend, c.ids), func(b *testing.B) {
			s, _ := openTemp(b, sqlite.Options{})
			ctx := context.Background()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for g := range appenders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stream := fmt.Sprintf("account-%d", g%16)
					evs := make([]eventstore.EventData, c.perAppend)
					for {
						i := next.Add(int64(c.perAppend))
						if i > int64(b.N)+int64(c.perAppend)-1 {
							return
						}
						for j := range evs {
							evs[j] = usage(int(i) + j)
							if c.ids == "v4" {
								evs[j].ID = uuid.New()
							}
						}
						if _, err := s.Append(ctx, stream, eventstore.Any(), evs...); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			st := s.Stats()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64(st.Events)/float64(max(st.Batches, 1)), "events/commit")
		})
	}
}

// BenchmarkReadAll measures reading history in pages, as a replay does.
func BenchmarkReadAll(b *testing.B) {
	const total = 100_000
	s, _ := openTemp(b, sqlite.Options{})
	ctx := context.Background()
	batch := make([]eventstore.EventData, 0, 1000)
	for i := range total {
		batch = append(batch, usage(i))
		if len(batch) == cap(batch) {
			if _, err := s.Append(ctx, fmt.Sprintf("account-%d", i%100), eventstore.Any(), batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.ResetTimer()
	start := time.Now()
	read := 0
	for b.Loop() {
		pos := eventstore.Start
		for {
			evs, err := s.ReadAll(ctx, pos, 1000)
			if err != nil {
				b.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			read += len(evs)
			pos = evs[len(evs)-1].Position
		}
	}
	b.ReportMetric(float64(read)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkFdatasync is the disk's floor under a commit, on the file system
// the store's benchmarks use: 16 KiB (a commit's WAL frames) written and
// fdatasync'd, either over blocks already written ("overwrite", as a WAL
// rewritten from its start) or past the end of the file ("grow", as a WAL
// still growing, where the new size and extents must reach the journal too),
// and over written blocks a millisecond apart ("overwrite-paced", as a lone
// client's commits come: the disk idles between them).
// Beside the mean it reports the p50, p99 and p99.9 of the fdatasync calls
// alone: a one-client request waits for one, so the disk's tail is the
// floor under the gateway's p99. It also reports the process's CPU time per
// write and sync, pause included when paced; "pause-only" is the paced loop
// without the sync, its baseline. On a virtual machine a sync after an idle
// pause costs the process several times the CPU of one back to back.
func BenchmarkFdatasync(b *testing.B) {
	page := make([]byte, 16<<10)
	for _, mode := range []string{"overwrite", "grow", "overwrite-paced", "pause-only"} {
		b.Run(mode, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "sync"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if mode != "grow" {
				if _, err := f.WriteAt(page, 0); err != nil {
					b.Fatal(err)
				}
				if err := syscall.Fdatasync(int(f.Fd())); err != nil {
					b.Fatal(err)
				}
			}
			off := int64(0)
			var took []time.Duration
			cpu0 := processCPU(b)
			for b.Loop() {
				switch mode {
				case "grow":
					off += int64(len(page))
				case "overwrite-paced", "pause-only":
					time.Sleep(time.Millisecond)
				}
				if _, err := f.WriteAt(page, off); err != nil {
					b.Fatal(err)
				}
				if mode == "pause-only" {
					continue
				}
				start := time.Now()
				if err := syscall.Fdatasync(int(f.Fd())); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			if len(took) == 0 {
				return
			}
			slices.Sort(took)
			for _, q := range []struct {
				name string
				at   float64
			}{{"p50-µs", 0.50}, {"p99-µs", 0.99}, {"p99.9-µs", 0.999}} {
				b.ReportMetric(float64(took[int(q.at*float64(len(took)-1))].Microseconds()), q.name)
			}
		})
	}
}

// processCPU is the user and system time the process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
