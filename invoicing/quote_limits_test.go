package invoicing

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

func oneItem(qty, price string) QuoteRequest {
	return QuoteRequest{Agency: "臺北市政府資訊局",
		Items: []domain.QuoteItem{{Name: "AI API 服務", Quantity: dec(qty), Unit: "式", UnitPrice: dec(price)}}}
}

// A quote totals at most MaxQuoteTotal (新臺幣壹拾億元整, tax included).
// Larger amounts are refused, never wrapped around to another number.
func TestQuoteAmountsHaveACeiling(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	// 952,380,952 + tax 47,619,048 = 1,000,000,000: the largest total.
	q, err := e.svc.CreateQuote(e.ctx, oneItem("1", "952380952"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Total != MaxQuoteTotal {
		t.Fatalf("total %d, want %d", q.Total, MaxQuoteTotal)
	}
	var buf bytes.Buffer
	if err := e.svc.QuotePDF(&buf, q.QuoteID); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "952,380,952", "47,619,048", "1,000,000,000", "新臺幣壹拾億元整（含稅）")

	for _, c := range [][2]string{
		{"1", "952380953"},               // NT$1,000,000,001 with tax
		{"1e15", "1e10"},                 // past int64
		{"1", "18446744073709551617"},    // 2^64 + 1, which wrapped to NT$1
		{"1", "9223372036854775807"},     // the largest int64
		{"100000", "100000000000000000"}, // a product past int64
	} {
		q, err := e.svc.CreateQuote(e.ctx, oneItem(c[0], c[1]))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "新臺幣壹拾億元整") {
			t.Errorf("%s × %s: quote %s totals NT$%d, err %v; want refused naming the ceiling", c[0], c[1], q.QuoteID, q.Total, err)
		}
	}
	if n := len(e.svc.Quotes()); n != 1 {
		t.Fatalf("%d quotes issued, want 1", n)
	}
}

// Free text is bounded so that every row of the PDF fits on a page, and
// holds no control characters, which the PDF would carry as they are.
func TestQuoteTextIsBoundedAndPrintable(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	long := strings.Repeat("很長的品名", 2000)
	for name, mutate := range map[string]func(*QuoteRequest){
		"a 10,000-character item name": func(r *QuoteRequest) { r.Items[0].Name = long },
		"a 10,000-character spec":      func(r *QuoteRequest) { r.Items[0].Spec = long },
		"a long unit":                  func(r *QuoteRequest) { r.Items[0].Unit = strings.Repeat("月", 100) },
		"a long agency":                func(r *QuoteRequest) { r.Agency = long },
		"a long address":               func(r *QuoteRequest) { r.AgencyAddr = long },
		"a long contact":               func(r *QuoteRequest) { r.Contact = long },
		"long remarks":                 func(r *QuoteRequest) { r.Remarks = long },
		"a bell in the agency":         func(r *QuoteRequest) { r.Agency = "臺北市政府\a資訊局" },
		"a NUL in the item":            func(r *QuoteRequest) { r.Items[0].Name = "服務\x00" },
		"an escape in the contact":     func(r *QuoteRequest) { r.Contact = "林\x1b[2J承辦" },
		"a line break in the agency":   func(r *QuoteRequest) { r.Agency = "臺北市\n政府" },
		"too many items": func(r *QuoteRequest) {
			for len(r.Items) <= MaxQuoteItems {
				r.Items = append(r.Items, r.Items[0])
			}
		},
	} {
		r := oneItem("1", "100")
		mutate(&r)
		if q, err := e.svc.CreateQuote(e.ctx, r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: issued %s (%v); want refused", name, q.QuoteID, err)
		}
	}
	if n := len(e.svc.Quotes()); n != 0 {
		t.Fatalf("%d quotes issued, want none", n)
	}

	// At the bounds a quote is issued, and its PDF prints each row whole on
	// a page: MaxQuoteItems items of the longest name and spec.
	r := oneItem("1", "100")
	r.Agency = strings.Repeat("機", maxAgencyRunes)
	r.Remarks = "第一行\n第二行"
	r.Items[0].Name = strings.Repeat("名", maxItemRunes)
	r.Items[0].Spec = strings.Repeat("規", maxItemRunes)
	for len(r.Items) < MaxQuoteItems {
		r.Items = append(r.Items, r.Items[0])
	}
	q, err := e.svc.CreateQuote(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.svc.QuotePDF(&buf, q.QuoteID); err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, buf.Bytes())
	pdftest.MustContain(t, text, "第一行", "第二行", "總計（含稅）")
	if got := strings.Count(text, "名"); got < MaxQuoteItems*maxItemRunes {
		t.Errorf("the PDF prints %d of the items' %d name characters", got, MaxQuoteItems*maxItemRunes)
	}
}

// A quantity or a unit price took any number of decimals and the quote's
// PDF printed them all (0.333333333333333333 months at NT$0.000000000001).
// Each takes at most MaxQuoteDecimals places; the totals stay exact.
func TestQuoteNumbersHaveBoundedDecimals(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	if _, err := e.svc.CreateQuote(e.ctx, oneItem("2.5", "33.335")); err != nil {
		t.Fatalf("a quote of usual decimals: %v", err)
	}
	if _, err := e.svc.CreateQuote(e.ctx, oneItem("0.000001", "1234567.123456")); err != nil {
		t.Fatalf("six places: %v", err)
	}
	for _, c := range [][2]string{{"0.3333333", "100"}, {"1", "0.0000001"}, {"0.333333333333333333", "1000"}} {
		_, err := e.svc.CreateQuote(e.ctx, oneItem(c[0], c[1]))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "decimal places") {
			t.Errorf("%s × %s: %v; want refused for its decimal places", c[0], c[1], err)
		}
	}
	if n := len(e.svc.Quotes()); n != 2 {
		t.Fatalf("%d quotes issued, want 2", n)
	}
}
