package invoicing

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// The reference's worked examples of tax on net prices (B2B and quotes:
// tax = net × 5 %, rounded half-up once, on the subtotal) hold on a
// quote's PDF read back: its 小計, 營業稅 and 總計 are the worked figures,
// and the total in capitals is 總計's. 1.5 and 2.5 round up, not to even.
func TestQuoteWorkedExamplesReadBack(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	for _, c := range []struct {
		items           []domain.QuoteItem
		sub, tax, total int64
	}{
		{[]domain.QuoteItem{{Quantity: dec("1"), UnitPrice: dec("11714")}}, 11714, 586, 12300},
		{[]domain.QuoteItem{{Quantity: dec("1"), UnitPrice: dec("30")}}, 30, 2, 32},
		{[]domain.QuoteItem{{Quantity: dec("1"), UnitPrice: dec("50")}}, 50, 3, 53},
		{[]domain.QuoteItem{{Quantity: dec("12"), UnitPrice: dec("500")}, {Quantity: dec("20"), UnitPrice: dec("285.7")}}, 11714, 586, 12300},
	} {
		req := quoteRequest()
		for i := range c.items {
			c.items[i].Name, c.items[i].Unit = "AI API 服務", "式"
		}
		req.Items = c.items
		q, err := e.svc.CreateQuote(e.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if q.Subtotal != c.sub || q.Tax != c.tax || q.Total != c.total {
			t.Fatalf("quote of %v: %d + %d = %d, want %d + %d = %d", c.items, q.Subtotal, q.Tax, q.Total, c.sub, c.tax, c.total)
		}
		var buf bytes.Buffer
		if err := e.svc.QuotePDF(&buf, q.QuoteID); err != nil {
			t.Fatal(err)
		}
		printed := map[string]int64{}
		for _, row := range strings.Split(pdftest.LayoutText(t, buf.Bytes()), "\n") {
			row = strings.TrimSpace(row)
			for _, label := range []string{"小計", "營業稅（5%）", "總計（含稅）"} {
				if after, ok := strings.CutPrefix(row, label); ok {
					if n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(after), ",", ""), 10, 64); err == nil {
						printed[label] = n
					}
				}
			}
		}
		if printed["小計"] != c.sub || printed["營業稅（5%）"] != c.tax || printed["總計（含稅）"] != c.total {
			t.Fatalf("quote %s prints %v, want %d + %d = %d", q.QuoteID, printed, c.sub, c.tax, c.total)
		}
		pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "總價："+twrules.UpperNTDPhrase(c.total)+"（含稅）")
	}
}
