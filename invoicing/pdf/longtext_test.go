package pdf

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// long is n distinct CJK characters the font prints, the from'th on, so
// that a text cut anywhere is told from a whole one.
func long(r *Renderer, from, n int) string {
	var out []rune
	for c := rune(0x4E00); len(out) < from+n; c++ {
		if r.font.has(c) {
			out = append(out, c)
		}
	}
	return string(out[from:])
}

// The longest texts the inputs take (a seller or buyer name of 60
// characters, a seller address of 100, a quote's agency, address and
// contact of 100) ran off the right edge of the page, or off both edges
// when centred: the PDF lost their ends. Each now prints whole on every
// document, as many times as the document names it (read in the order
// drawn, as the contract's parties stand side by side).
func TestLongTextsPrintWhole(t *testing.T) {
	r := testRenderer(t)
	s := testSeller()
	s.Name, s.Address = long(r, 0, 60), long(r, 60, 100)
	inv := b2bInvoice()
	inv.BuyerName = long(r, 160, 60)
	q := testQuote()
	q.Agency, q.AgencyAddr, q.Contact = long(r, 220, 100), long(r, 320, 100), long(r, 420, 100)
	at := time.Date(2026, 12, 4, 16, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		render func(*bytes.Buffer) error
		want   map[string]int
	}{
		{"invoice", func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, s, InvoiceOptions{}) },
			map[string]int{s.Name: 2, s.Address: 1, inv.BuyerName: 1}},
		{"thermal invoice", func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, s, InvoiceOptions{Thermal: true}) },
			map[string]int{s.Name: 1, inv.BuyerName: 1}},
		{"allowance", func(b *bytes.Buffer) error { return r.RenderAllowance(b, domainAllowance(), at, inv, s) },
			map[string]int{s.Name: 1, s.Address: 1, inv.BuyerName: 1}},
		{"quote", func(b *bytes.Buffer) error { return r.RenderQuote(b, q, s) },
			map[string]int{s.Name: 2, s.Address: 1, q.Agency: 1, q.AgencyAddr: 1, q.Contact: 1}},
		{"contract", func(b *bytes.Buffer) error { return r.RenderContract(b, testContract(), q, s, ContractOptions{}) },
			map[string]int{s.Name: 2, s.Address: 1, q.Agency: 2, q.AgencyAddr: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) {
					return -1
				}
				return r
			}, pdftest.RawText(t, render(t, c.render)))
			for want, n := range c.want {
				if got := strings.Count(text, want); got < n {
					t.Errorf("the %d characters from %q printed whole %d times, want %d", len([]rune(want)), string([]rune(want)[:4]), got, n)
				}
			}
		})
	}
}
