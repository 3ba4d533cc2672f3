package invoicing

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// salesOf is what the lines of an invoice must add up to: the F0401
// SalesAmount (B2B: the net 銷售額; B2C: the tax-inclusive total, as the
// lines carry 定價).
func salesOf(inv domain.InvoiceIssued) decimal.Decimal {
	if inv.Kind == "b2b" {
		return decimal.NewFromInt(inv.Sales)
	}
	return decimal.NewFromInt(inv.Total)
}

// oneDecimal finds money printed with a single decimal (7,582.4).
var oneDecimal = regexp.MustCompile(`\d\.\d(\D|$)`)

// rowAmount finds an item row of a proof's table in pdftotext -layout
// output: it ends with an amount to the cent.
var rowAmount = regexp.MustCompile(`\s(\d{1,3}(?:,\d{3})*\.\d\d)\s*$`)

// checkLinesSum proves that an invoice's lines add up exactly to its sales
// amount in the event, on the PDF, in F0401 and in the decoded QR codes.
func checkLinesSum(t testing.TB, svc *Service, inv Invoice, withQR bool) {
	t.Helper()
	inv = whole(t, svc, inv)
	want := salesOf(inv.InvoiceIssued)
	sum := decimal.Zero
	for _, l := range inv.Lines {
		sum = sum.Add(l.Amount)
		if !l.Quantity.Mul(l.UnitPrice).Equal(l.Amount) {
			t.Errorf("%s: line %q: %s × %s ≠ %s", inv.Number, l.Description, l.Quantity, l.UnitPrice, l.Amount)
		}
	}
	if !sum.Equal(want) {
		t.Errorf("%s: lines sum to %s, sales amount %s", inv.Number, sum, want)
	}

	var buf bytes.Buffer
	if err := svc.InvoicePDF(&buf, InvoiceRef(inv.Period, inv.Number)); err != nil {
		t.Fatal(err)
	}
	checkDocumentSum(t, svc, inv, buf.Bytes(), withQR)
}

// checkDocumentSum reads the sums back from doc, the invoice's PDF, and
// from its F0401.
func checkDocumentSum(t testing.TB, svc *Service, inv Invoice, doc []byte, withQR bool) {
	t.Helper()
	want := salesOf(inv.InvoiceIssued)
	// PDF: every line amount printed with two decimals; no money with one.
	text := pdftest.Text(t, doc)
	for _, l := range inv.Lines {
		pdftest.MustContain(t, text, groupThousands(l.Amount.StringFixed(2)))
	}
	if m := oneDecimal.FindString(text); m != "" {
		t.Errorf("%s: PDF prints money with one decimal: %q", inv.Number, m)
	}
	// Read the printed figures back: the amount column (the last figure of
	// each item row) adds up to the printed 銷售額合計 (B2B) or 總計（含稅）
	// (B2C).
	printed, rows, label := decimal.Zero, 0, "總計（含稅）"
	if inv.Kind == "b2b" {
		label = "銷售額合計"
	}
	var total decimal.Decimal
	var found bool
	for _, row := range strings.Split(pdftest.LayoutText(t, doc), "\n") {
		if m := rowAmount.FindStringSubmatch(row); m != nil {
			printed = printed.Add(decimal.RequireFromString(strings.ReplaceAll(m[1], ",", "")))
			rows++
		}
		if _, after, ok := strings.Cut(row, label); ok && !found {
			total, found = decimal.RequireFromString(strings.ReplaceAll(strings.TrimSpace(after), ",", "")), true
		}
	}
	if !found || rows != len(inv.Lines) || !printed.Equal(total) || !total.Equal(want) {
		t.Errorf("%s: the PDF prints %d item rows summing to %s under %s %s (found %v), want %d summing to %s",
			inv.Number, rows, printed, label, total, found, len(inv.Lines), want)
	}

	// F0401: item Amounts add up to SalesAmount.
	var x mig.Invoice
	var buf bytes.Buffer
	if err := mig.WriteF0401(&buf, inv.InvoiceIssued, svc.seller.MIG()); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(buf.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	xs := decimal.Zero
	for _, it := range x.Details {
		xs = xs.Add(decimal.RequireFromString(it.Amount))
	}
	if sa := decimal.RequireFromString(x.Amount.SalesAmount); !xs.Equal(sa) || !sa.Equal(want) {
		t.Errorf("%s: F0401 items sum to %s, SalesAmount %s, want %s", inv.Number, xs, sa, want)
	}
	if !withQR {
		return
	}
	// QR: items (name:qty:price) decoded from the page add up too.
	left, right := decodeProofQRs(t, doc)
	fields := strings.Split(strings.TrimSuffix(left[77:], ":"), ":")[5:] // after :**********:recorded:total:1
	if r := strings.TrimPrefix(right, "**"); r != "" {
		fields = append(fields, strings.Split(r, ":")...)
	}
	qs := decimal.Zero
	var items int
	for i := 0; i+2 < len(fields); i += 3 {
		qs = qs.Add(decimal.RequireFromString(fields[i+1]).Mul(decimal.RequireFromString(fields[i+2])))
		items++
	}
	if items != len(inv.Lines) || !qs.Equal(want) {
		t.Errorf("%s: QR has %d items summing to %s, want %d summing to %s (%q %q)", inv.Number, items, qs, len(inv.Lines), want, left, right)
	}
	hexSales, _ := strconv.ParseInt(left[21:29], 16, 64)
	hexTotal, _ := strconv.ParseInt(left[29:37], 16, 64)
	if hexSales != inv.Sales || hexTotal != inv.Total {
		t.Errorf("%s: QR header sales %d total %d", inv.Number, hexSales, hexTotal)
	}
}

// decodeProofQRs reads the two QR codes of an A4 proof. Only the band of
// the codes is rendered (a whole page at 300 dpi costs several times
// more). gozxing's finder-pattern detector misses about one code in a
// hundred at a given resolution, some at every one (the random code changes
// the pattern); pdftest.TryDecodeQR then reads the crop as a pure barcode,
// and other resolutions are tried before failing.
func decodeProofQRs(t testing.TB, doc []byte) (left, right string) {
	t.Helper()
	const q = 4.0
	x0, y0 := qrLeftX-q, qrY-q
	var errs []string
	for _, dpi := range []int{300, 400, 240, 360} {
		band := pdftest.RasterizeRegion(t, doc, dpi, x0, y0, qrRightX+qrSize+q-x0, qrSize+2*q)
		l, errL := pdftest.TryDecodeQR(pdftest.Crop(band, dpi, 0, 0, qrSize+2*q, qrSize+2*q))
		r, errR := pdftest.TryDecodeQR(pdftest.Crop(band, dpi, qrRightX-x0, 0, qrSize+2*q, qrSize+2*q))
		if errL == nil && errR == nil {
			return l, r
		}
		errs = append(errs, fmt.Sprintf("%d dpi: left %v, right %v", dpi, errL, errR))
	}
	t.Fatalf("QR codes unreadable: %s", strings.Join(errs, "; "))
	return "", ""
}

// Some 隨機碼 give a left code that gozxing's finder-pattern detector reads
// at none of the four resolutions; these do so on a prepaid invoice. Its
// proof must still be read back.
func TestProofQRsReadWhateverTheRandomCode(t *testing.T) {
	e := newEnv(t, time.Date(2026, 10, 20, 5, 0, 0, 0, time.UTC))
	for _, code := range []string{"0222", "2117", "4516", "7834", "9576"} {
		inv := domain.InvoiceIssued{Number: "AA10000000", Period: "2026-09", AccountID: "pre", TopUpRef: "pay-3",
			Kind: "b2c", RandomCode: code, Sales: 279, Tax: 14, Total: 293,
			Lines:    []domain.InvoiceLine{{Description: "API 預付儲值", Quantity: decimal.NewFromInt(1), Unit: "筆", UnitPrice: decimal.NewFromInt(293), Amount: decimal.NewFromInt(293)}},
			IssuedAt: time.Date(2026, 10, 20, 5, 0, 0, 0, time.UTC)}
		var doc bytes.Buffer
		if err := e.svc.RenderInvoice(&doc, Invoice{InvoiceIssued: inv}); err != nil {
			t.Fatal(err)
		}
		checkDocumentSum(t, e.svc, Invoice{InvoiceIssued: inv}, doc.Bytes(), true)
	}
}

func groupThousands(s string) string {
	in, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range in {
		if i > 0 && (len(in)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "." + frac
}

// The cases of the report: lines of 11,714.29 under 11,714; 29.9 under 30;
// 8.27 under 9; a line printed 7,582.4.
func TestLinesSumToSalesAmount(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("biz", "大方股份有限公司", "22099131", domain.PlanBusiness)
	e.open("small", "小方股份有限公司", "04595257", domain.PlanBusiness)
	e.open("shop", "小店工作室", "", domain.PlanEnterprise)
	e.open("tiny", "微小工作室", "", domain.PlanEnterprise)
	at := taipei(2026, 11, 10, 10, 0)
	e.use("biz", "gpt-4o", at, 1, 1, "4000.10")
	e.use("biz", "gpt-4o-mini", at, 1, 1, "4000.10")
	e.use("biz", "claude-sonnet", at, 1, 1, "4299.80")
	e.use("small", "gpt-4o", at, 1, 1, "31.395") // net 29.9 under 30
	e.use("shop", "gpt-4o", at, 1, 1, "7582.4")
	e.use("shop", "gpt-4o-mini", at, 1, 1, "0.333")
	e.use("tiny", "gpt-4o", at, 1, 1, "8.27")
	e.use("tiny", "gpt-4o-mini", at, 1, 1, "0.333")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Issued) != 4 {
		t.Fatalf("issued %d: %+v", len(rep.Issued), rep)
	}
	// The reported figures: 銷售額 11,714 (lines summing to 11,714.29
	// before), 30 (a line of 29.9), 9 with tax 0 (a line of 8.27), and a
	// B2C total of 7,583 with a line once printed 7,582.4.
	want := map[string][3]int64{"biz": {11714, 586, 12300}, "small": {30, 1, 31}, "shop": {7222, 361, 7583}, "tiny": {9, 0, 9}}
	for _, inv := range rep.Issued {
		if w := want[inv.AccountID]; [3]int64{inv.Sales, inv.Tax, inv.Total} != w {
			t.Errorf("%s: %d + %d = %d, want %v", inv.AccountID, inv.Sales, inv.Tax, inv.Total, w)
		}
		checkLinesSum(t, e.svc, inv, true)
	}
}

// One proof drawn by the property test had a right QR code that gozxing's
// finder-pattern detector and its pure-barcode reading both missed at
// every resolution, while zbarimg read it: the helper then reads the code
// turned a quarter, as a reader held askew would.
func TestProofQRCodesReadWhateverTheirPattern(t *testing.T) {
	e := newEnv(t, taipei(2027, 1, 4, 12, 0))
	inv := Invoice{InvoiceIssued: domain.InvoiceIssued{Number: "AB10000000", Period: "2027-01", AccountID: "pre", Month: "2026-10",
		IssuedAt: taipei(2027, 1, 4, 12, 0), RandomCode: "0414", Kind: pdf.KindB2C, Sales: 141, Total: 141,
		Lines: []domain.InvoiceLine{
			{Description: "claude-sonnet 用量 2026-10（輸入 10／輸出 5 tokens）", Quantity: decimal.NewFromInt(1), Unit: "式", UnitPrice: dec("2.34"), Amount: dec("2.34")},
			{Description: "gpt-4o 用量 2026-10（輸入 10／輸出 5 tokens）", Quantity: decimal.NewFromInt(1), Unit: "式", UnitPrice: dec("138.66"), Amount: dec("138.66")},
		}}}
	var doc bytes.Buffer
	if err := e.svc.RenderInvoice(&doc, inv); err != nil {
		t.Fatal(err)
	}
	if _, right := decodeProofQRs(t, doc.Bytes()); right != "**gpt-4o 用量 2026-10（輸入 10／輸出 5 tokens）:1:138.66" {
		t.Fatalf("right QR code: %q", right)
	}
}

// checkAllowanceDocuments reads back the 折讓證明單 of every allowance of
// inv, voided ones included: its printed 折讓金額合計, 營業稅額合計 and
// 總計, and the total in capitals, are the allowance's in the ledger, and
// they agree with its G0401 (B2B: the net amount and its tax; B2C: the
// inclusive amount with no tax, as its invoice's F0401). A voided one says
// so.
func checkAllowanceDocuments(t testing.TB, svc *Service, inv Invoice) {
	t.Helper()
	inv = whole(t, svc, inv)
	for i, a := range inv.Allowances {
		var buf bytes.Buffer
		if err := svc.AllowancePDF(&buf, a.Number); err != nil {
			t.Fatal(err)
		}
		printed := map[string]int64{}
		for _, row := range strings.Split(pdftest.LayoutText(t, buf.Bytes()), "\n") {
			for _, label := range []string{"折讓金額合計", "營業稅額合計", "總計"} {
				if _, after, ok := strings.Cut(strings.TrimSpace(row), label); ok && strings.HasPrefix(strings.TrimSpace(row), label) {
					if n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(after), ",", ""), 10, 64); err == nil {
						printed[label] = n
					}
				}
			}
		}
		total := a.Sales + a.Tax
		if printed["折讓金額合計"] != a.Sales || printed["營業稅額合計"] != a.Tax || printed["總計"] != total {
			t.Fatalf("allowance %s of %s: its PDF prints %v, the ledger %d + %d = %d", a.Number, inv.Number, printed, a.Sales, a.Tax, total)
		}
		text := pdftest.Text(t, buf.Bytes())
		pdftest.MustContain(t, text, a.Number, twrules.PrintedNumber(inv.Number), twrules.UpperNTD(total))
		if a.Voided != strings.Contains(text, "本折讓單已作廢") {
			t.Fatalf("allowance %s (voided %v): its PDF says 本折讓單已作廢: %v", a.Number, a.Voided, !a.Voided)
		}
		m, err := mig.BuildG0401(allowanceDoc(inv.InvoiceIssued, inv.Allowances, i), svc.seller.MIG())
		if err != nil {
			t.Fatal(err)
		}
		wantSales, wantTax := a.Sales, a.Tax
		if inv.Kind != "b2b" {
			wantSales, wantTax = total, 0
		}
		if m.Amount.TaxAmount != strconv.FormatInt(wantTax, 10) || m.Amount.TotalAmount != strconv.FormatInt(wantSales, 10) {
			t.Fatalf("allowance %s of %s (%d + %d): G0401 TaxAmount %s, TotalAmount %s", a.Number, inv.Number, a.Sales, a.Tax, m.Amount.TaxAmount, m.Amount.TotalAmount)
		}
	}
}
