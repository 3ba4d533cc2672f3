package pdf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

func TestQuoteText(t *testing.T) {
	r := testRenderer(t)
	q := testQuote()
	if q.Subtotal != 11714 || q.Tax != 586 || q.Total != 12300 {
		t.Fatalf("fixture totals %d %d %d", q.Subtotal, q.Tax, q.Total)
	}
	doc := render(t, func(b *bytes.Buffer) error { return r.RenderQuote(b, q, testSeller()) })
	pdftest.MustContain(t, pdftest.Text(t, doc),
		"報", "路由自由股份有限公司", "統一編號：12345675", "負責人：陳大文", "地址：臺北市信義區市府路45號",
		"聯絡人：王小明", "Q-2026-0042", "中華民國115年11月5日", "自報價日起30日內有效",
		"中華民國115年12月5日止", "臺北市政府資訊局", "04595257", "品名", "規格", "數量", "單位", "單價", "金額",
		"AI API 服務（月費）", "6,000", "5,714", "小計", "11,714", "營業稅（5%）", "586", "總計（含稅）", "12,300",
		"新臺幣壹萬貳仟參佰元整（含稅）", "服務期間內單價不調漲", "公司印鑑", "負責人印鑑")
	again := render(t, func(b *bytes.Buffer) error { return r.RenderQuote(b, q, testSeller()) })
	if !bytes.Equal(doc, again) {
		t.Error("quote is not deterministic")
	}
}

func TestQuoteRejects(t *testing.T) {
	r := testRenderer(t)
	q := testQuote()
	q.Tax++
	if err := r.RenderQuote(&bytes.Buffer{}, q, testSeller()); err == nil {
		t.Error("inconsistent totals accepted")
	}
	s := testSeller()
	s.Responsible = ""
	if err := r.RenderQuote(&bytes.Buffer{}, testQuote(), s); err == nil {
		t.Error("quote without 負責人 accepted")
	}
}

func TestContractText(t *testing.T) {
	r := testRenderer(t)
	doc := render(t, func(b *bytes.Buffer) error {
		return r.RenderContract(b, testContract(), testQuote(), testSeller(), ContractOptions{})
	})
	text := pdftest.Text(t, doc)
	pdftest.MustContain(t, text, "服務契約書", "C-2026-0007", "Q-2026-0042",
		"甲方（委託機關）：臺北市政府資訊局", "04595257", "臺北市信義區市府路1號",
		"乙方（服務廠商）：路由自由股份有限公司", "12345675",
		"AI API 服務（月費）", "新臺幣壹萬貳仟參佰元整", "中華民國116年1月1日起至中華民國116年12月31日止",
		"Business 方案（月結）", "99.9%", "付款條件", "臺灣銀行", "中華民國（臺灣）境內",
		"公司印鑑", "負責人印鑑", "機關印信")
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	for i, p := range pages {
		if want := "第 " + strconv.Itoa(i+1) + " 頁／共 " + strconv.Itoa(len(pages)) + " 頁"; !strings.Contains(p, want) || !strings.Contains(p, "契約編號 C-2026-0007") {
			t.Errorf("contract page %d of %d lacks %q or its footer's contract number", i+1, len(pages), want)
		}
	}
	// Custom clauses replace the defaults.
	doc = render(t, func(b *bytes.Buffer) error {
		return r.RenderContract(b, testContract(), testQuote(), testSeller(),
			ContractOptions{PaymentTerms: "每季預付。", IssuedAt: time.Date(2026, 12, 20, 3, 0, 0, 0, time.UTC)})
	})
	text = pdftest.Text(t, doc)
	pdftest.MustContain(t, text, "每季預付。", "中華民國115年12月20日")
	if strings.Contains(text, "收受發票後三十日內") {
		t.Error("default payment terms printed despite an override")
	}
	c := testContract()
	c.QuoteID = "Q-other"
	if err := r.RenderContract(&bytes.Buffer{}, c, testQuote(), testSeller(), ContractOptions{}); err == nil {
		t.Error("contract for another quote accepted")
	}
}

func TestAllowanceText(t *testing.T) {
	r := testRenderer(t)
	inv := b2bInvoice()
	at := time.Date(2026, 12, 4, 16, 30, 0, 0, time.UTC) // 5 Dec in Taipei
	doc := render(t, func(b *bytes.Buffer) error {
		return r.RenderAllowance(b, domainAllowance(), at, inv, testSeller())
	})
	pdftest.MustContain(t, pdftest.Text(t, doc), "折讓證明單", "AL2026120001", "中華民國115年12月5日", "AB-12345678",
		"中華民國115年11月5日", "22099131", "服務中斷補償", "1,000", "50", "1,050", "壹仟零伍拾元整", "買受人簽收")
	a := domainAllowance()
	a.Sales = inv.Total
	if err := r.RenderAllowance(&bytes.Buffer{}, a, at, inv, testSeller()); err == nil {
		t.Error("allowance above the invoice total accepted")
	}
}

// A voided allowance, re-rendered, carries the void notice and the large
// 作廢 mark; the allowance itself is unchanged under it.
func TestVoidedAllowanceText(t *testing.T) {
	r := testRenderer(t)
	inv := b2bInvoice()
	at := time.Date(2026, 12, 4, 16, 30, 0, 0, time.UTC)
	voidAt := time.Date(2026, 12, 31, 16, 5, 0, 0, time.UTC) // 1 Jan 00:05 in Taipei
	doc := render(t, func(b *bytes.Buffer) error {
		return r.RenderVoidedAllowance(b, domainAllowance(), at, inv, testSeller(), VoidMark{Reason: "折讓金額誤植", At: voidAt})
	})
	text := pdftest.Text(t, doc)
	pdftest.MustContain(t, text, "本折讓單已作廢（VOID）", "作廢日期 2027-01-01 00:05:00", "作廢原因：折讓金額誤植",
		"折讓證明單", "AL2026120001", "1,050", "壹仟零伍拾元整")
	if n := strings.Count(text, "作廢"); n < 3 { // notice, reason, the large mark
		t.Errorf("作廢 printed %d times:\n%s", n, text)
	}
}

func TestFontFromPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "font.ttf")
	if err := os.WriteFile(path, defaultFont, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{FontPath: path, QRKeyHex: testKey})
	if err != nil {
		t.Fatal(err)
	}
	doc := render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, b2bInvoice(), testSeller(), InvoiceOptions{}) })
	pdftest.MustContain(t, pdftest.Text(t, doc), "電子發票證明聯", "AB-12345678")

	if _, err := New(Config{FontPath: filepath.Join(t.TempDir(), "missing.ttf")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing font: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.ttf")
	os.WriteFile(junk, []byte("not a font"), 0o600)
	if _, err := New(Config{FontPath: junk}); err == nil {
		t.Error("junk font accepted")
	}
	if _, err := New(Config{QRKeyHex: "123"}); err == nil {
		t.Error("short QR key accepted")
	}
}

// A unit price with more than two decimals prints whole, and so does its
// line's amount: each line reads quantity × unit price = amount, and the
// 小計 is their sum rounded once, as the totals are computed.
func TestQuoteLinesPrintExactly(t *testing.T) {
	r := testRenderer(t)
	q := testQuote()
	q.Items = []domain.QuoteItem{{Name: "模型用量", Quantity: dec("3"), Unit: "百萬tokens", UnitPrice: dec("33.335")}}
	q.Subtotal, q.Tax, q.Total = twrules.NetTotals(dec("100.005"))
	doc := render(t, func(b *bytes.Buffer) error { return r.RenderQuote(b, q, testSeller()) })
	text := pdftest.Text(t, doc)
	pdftest.MustContain(t, text, "33.335", "100.005", "小計")
	for _, wrong := range []string{"33.34", "100.01"} {
		if strings.Contains(text, wrong) {
			t.Errorf("quote prints %s, a rounded figure that does not multiply out", wrong)
		}
	}
}

// A quote of several pages printed no page numbers, and its later pages
// did not name it: a page that comes loose from a government quote could
// not be put back. Every page now says which quote it belongs to and that
// it is page N of M.
func TestQuotePagesAreNumbered(t *testing.T) {
	r := testRenderer(t)
	for _, items := range []int{1, 80} {
		q := testQuote()
		q.Items = nil
		for i := range items {
			q.Items = append(q.Items, domain.QuoteItem{Name: "AI API 服務 " + strings.Repeat("甲", i%3), Quantity: dec("1"), Unit: "月", UnitPrice: dec("100")})
		}
		q.Subtotal, q.Tax, q.Total = twrules.NetTotals(dec("100").Mul(dec(strconv.Itoa(items))))
		doc := render(t, func(b *bytes.Buffer) error { return r.RenderQuote(b, q, testSeller()) })
		pages := strings.Split(strings.TrimRight(pdftest.Text(t, doc), "\f"), "\f")
		if items > 1 && len(pages) < 2 {
			t.Fatalf("%d items on %d page", items, len(pages))
		}
		for i, p := range pages {
			want := "第 " + strconv.Itoa(i+1) + " 頁／共 " + strconv.Itoa(len(pages)) + " 頁"
			if !strings.Contains(p, want) || !strings.Contains(p, q.QuoteID) {
				t.Errorf("%d items, page %d of %d lacks %q or the quote number %s", items, i+1, len(pages), want, q.QuoteID)
			}
		}
	}
}
