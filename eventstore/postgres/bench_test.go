package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/routefree/routefree/eventstore"
)

// BenchmarkAppend measures single-event appends from concurrent callers, as
// the gateway makes them (one usage event per request).
func BenchmarkAppend(b *testing.B) {
	for _, appenders := range []int{1, 64} {
		b.Run(fmt.Sprintf("appenders=%d", appenders), func(b *testing.B) {
			s, _ := openFresh(b, Options{})
			ctx := context.Background()
			perWorker := (b.N + appenders - 1) / appenders
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range appenders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stream := fmt.Sprintf("usage-%d", w)
					for range perWorker {
						if _, err := s.Append(ctx, stream, eventstore.Any(), ev("RequestCompleted")); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			n := perWorker * appenders
			st := s.Stats()
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(st.Events)/float64(max(st.Batches, 1)), "events/commit")
		})
	}
}

// BenchmarkReadAll measures reading the global order in pages of 1000.
func BenchmarkReadAll(b *testing.B) {
	s, _ := openFresh(b, Options{})
	ctx := context.Background()
	const total = 100_000
	for i := 0; i < total; i += 1000 {
		batch := make([]eventstore.EventData, 1000)
		for j := range batch {
			batch[j] = ev("RequestCompleted")
		}
		if _, err := s.Append(ctx, fmt.Sprintf("usage-%d", i%100), eventstore.Any(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	read := 0
	for range b.N {
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
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}
