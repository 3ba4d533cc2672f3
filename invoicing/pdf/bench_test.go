package pdf

import (
	"io"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time: on a shared machine it
// shows the cost of a proof better than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRenderInvoice is the per-proof cost of the monthly close.
func BenchmarkRenderInvoice(b *testing.B) {
	r := testRenderer(b)
	inv, seller := b2bInvoice(), testSeller()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if err := r.RenderInvoice(io.Discard, inv, seller, InvoiceOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkRenderInvoiceParallel renders on every core, as the close does;
// ns/op is then wall time per proof with all cores busy.
func BenchmarkRenderInvoiceParallel(b *testing.B) {
	r := testRenderer(b)
	inv, seller := b2bInvoice(), testSeller()
	b.ReportAllocs()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := r.RenderInvoice(io.Discard, inv, seller, InvoiceOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
