package pdf

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
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

// A table ending near the foot of a page left the totals under it no
// room: each of their lines went to a page of its own (a 27-item quote
// took 7 pages, 營業稅 on the 2nd, its amount on the 3rd, …; the 5.7 cm
// proof's items, wrapped at the A4 margin, did the same). Whatever the
// number of rows, the totals and the amount in words now stand together
// on one page, and no page is left with nothing but a footer.
func TestTotalsStayTogether(t *testing.T) {
	r := testRenderer(t)
	check := func(t *testing.T, doc []byte, labels ...string) {
		t.Helper()
		pages := strings.Split(strings.TrimRight(pdftest.Text(t, doc), "\f"), "\f")
		with := -1
		for i, p := range pages {
			if strings.Contains(p, labels[0]) {
				with = i
			}
		}
		if with < 0 {
			t.Fatalf("no page prints %s", labels[0])
		}
		for _, l := range labels {
			if !strings.Contains(pages[with], l) {
				t.Errorf("%d pages: %s is not on page %d with %s", len(pages), l, with+1, labels[0])
			}
		}
		if len(pages) > with+2 {
			t.Errorf("%d pages, the totals on page %d", len(pages), with+1)
		}
	}
	for n := 5; n <= 45; n++ {
		q := testQuote()
		q.Items = nil
		for range n {
			q.Items = append(q.Items, domain.QuoteItem{Name: "服務", Quantity: dec("1"), Unit: "月", UnitPrice: dec("100")})
		}
		q.Subtotal, q.Tax, q.Total = twrules.NetTotals(dec("100").Mul(dec(strconv.Itoa(n))))
		doc := render(t, func(b *bytes.Buffer) error { return r.RenderQuote(b, q, testSeller()) })
		check(t, doc, "小計", "營業稅（5%）", ntd(q.Tax), "總計（含稅）", ntd(q.Total), "總價："+twrules.UpperNTDPhrase(q.Total))

		inv := b2bInvoice()
		inv.Lines = nil
		for range n {
			inv.Lines = append(inv.Lines, domain.InvoiceLine{Description: "模型用量", Quantity: dec("1"), Unit: "式", UnitPrice: dec("100"), Amount: dec("100")})
		}
		inv.Sales, inv.Tax = int64(100*n), int64(5*n)
		inv.Total = inv.Sales + inv.Tax
		doc = render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{}) })
		check(t, doc, "銷售額合計", "營業稅（5%）", ntd(inv.Tax), "總計", ntd(inv.Total), "總計新臺幣（大寫）："+twrules.UpperNTD(inv.Total))
		doc = render(t, func(b *bytes.Buffer) error {
			return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{Thermal: true})
		})
		check(t, doc, "銷售額合計", "營業稅（5%）", ntd(inv.Tax), "總計（含稅）", ntd(inv.Total), "新臺幣"+twrules.UpperNTD(inv.Total))
		if got := strings.Count(pdftest.Text(t, doc), "1 式 × 100.00"); got != n {
			t.Errorf("the 5.7 cm proof of %d lines prints %d", n, got)
		}
	}
}
