package pdf

import (
	"io"
	"testing"
)

// BenchmarkRenderInvoice is the per-proof cost of the monthly close.
func BenchmarkRenderInvoice(b *testing.B) {
	r := testRenderer(b)
	inv, seller := b2bInvoice(), testSeller()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.RenderInvoice(io.Discard, inv, seller, InvoiceOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderInvoiceParallel renders on every core, as the close does.
func BenchmarkRenderInvoiceParallel(b *testing.B) {
	r := testRenderer(b)
	inv, seller := b2bInvoice(), testSeller()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := r.RenderInvoice(io.Discard, inv, seller, InvoiceOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
