package kurrent

import (
	"context"
	"fmt"
	"testing"

	"github.com/routefree/routefree/eventstore"
)

// BenchmarkAppendFake measures the adapter's write path (hashing, one
// AppendToStream per request, in order) against the loopback protocol fake;
// a real KurrentDB adds its own fsync latency per append.
func BenchmarkAppendFake(b *testing.B) {
	s := openOn(b, startFake(b), Options{})
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := s.Append(context.Background(), fmt.Sprintf("usage-%d", i%16), eventstore.Any(), ev("RequestCompleted")); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
