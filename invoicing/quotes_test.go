package invoicing

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"

	"github.com/routefree/routefree/domain"
)

func quoteRequest() QuoteRequest {
	return QuoteRequest{
		Agency: "臺北市政府資訊局", AgencyTaxID: "04595257", AgencyAddr: "臺北市信義區市府路1號", Contact: "林承辦",
		Items: []domain.QuoteItem{
			{Name: "AI API 服務（月費）", Spec: "Business 方案", Quantity: dec("12"), Unit: "月", UnitPrice: dec("500")},
			{Name: "模型用量", Spec: "gpt-4o 輸入 tokens", Quantity: dec("20"), Unit: "百萬tokens", UnitPrice: dec("285.7")},
		},
		Remarks: "服務期間內單價不調漲。", Plan: domain.PlanBusiness,
	}
}

func TestQuoteTotals(t *testing.T) {
	// 6,000 + 5,714 = 11,714 net → 586 tax (once, on the subtotal) → 12,300.
	if s, tax, tot := QuoteTotals(quoteRequest().Items); s != 11714 || tax != 586 || tot != 12300 {
		t.Fatalf("totals %d %d %d", s, tax, tot)
	}
	// Half-up on the subtotal: 49.5 → 50 → tax 2.5 → 3.
	if s, tax, tot := QuoteTotals([]domain.QuoteItem{{Quantity: dec("3"), UnitPrice: dec("16.5")}}); s != 50 || tax != 3 || tot != 53 {
		t.Fatalf("half-up totals %d %d %d", s, tax, tot)
	}
}

func TestQuoteToContract(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	if _, err := e.svc.CreateQuote(e.ctx, QuoteRequest{Agency: "x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("quote without items: %v", err)
	}
	q, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(q.QuoteID, "Q-20261105-") || q.Subtotal != 11714 || q.Tax != 586 || q.Total != 12300 || q.ValidDays != 30 {
		t.Fatalf("quote %+v", q.QuoteIssued)
	}
	var buf bytes.Buffer
	if err := e.svc.QuotePDF(&buf, q.QuoteID); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "報", q.QuoteID, "臺北市政府資訊局", "04595257", "中華民國115年11月5日",
		"11,714", "586", "12,300", "新臺幣壹萬貳仟參佰元整", "統一編號：12345675")

	e.clock.Set(taipei(2026, 11, 20, 10, 0))
	acc, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, time.Time{}, 12)
	if err != nil {
		t.Fatal(err)
	}
	c := acc.Contract
	if !acc.Accepted || c == nil || c.ContractID != "C-"+strings.TrimPrefix(q.QuoteID, "Q-") || c.Plan != domain.PlanBusiness ||
		!c.PeriodStart.Equal(taipei(2026, 12, 1, 0, 0)) || !c.PeriodEnd.Equal(taipei(2027, 12, 1, 0, 0)) {
		t.Fatalf("accepted %+v contract %+v", acc.Accepted, c)
	}
	again, err := e.svc.AcceptQuote(e.ctx, q.QuoteID, time.Time{}, 6)
	if err != nil || again.Contract.ContractID != c.ContractID || !again.Contract.PeriodEnd.Equal(c.PeriodEnd) {
		t.Fatalf("accepting twice: %v %+v", err, again.Contract)
	}
	buf.Reset()
	if err := e.svc.ContractPDF(&buf, c.ContractID); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "AI API 服務契約書", c.ContractID, q.QuoteID, "臺北市政府資訊局",
		"中華民國115年12月1日", "中華民國116年11月30日", "新臺幣壹萬貳仟參佰元整", "Business 方案（月結）", "中華民國115年11月20日")

	// An expired quote cannot be accepted.
	late, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(taipei(2027, 1, 20, 10, 0))
	if _, err := e.svc.AcceptQuote(e.ctx, late.QuoteID, time.Time{}, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("accepting an expired quote: %v", err)
	}
}

func TestSellerConfig(t *testing.T) {
	if err := DevSeller().Validate(); err != nil {
		t.Fatalf("development default invalid: %v", err)
	}
	env := map[string]string{
		"ROUTEFREE_SELLER_NAME": "測試股份有限公司", "ROUTEFREE_SELLER_TAX_ID": "12345678",
		"ROUTEFREE_INVOICE_AES_KEY": "not-hex", "ROUTEFREE_SELLER_ADDRESS": "新北市板橋區",
	}
	c := SellerFromEnv(func(k string) string { return env[k] })
	if c.Name != "測試股份有限公司" || c.Address != "新北市板橋區" || c.Responsible != DevSeller().Responsible {
		t.Fatalf("env not applied over defaults: %+v", c)
	}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "12345678") || !strings.Contains(err.Error(), "AES") {
		t.Fatalf("Validate should report the bad 統一編號 and key together: %v", err)
	}
	if !DevSeller().IsDevKey() {
		t.Error("the development key is not recognised")
	}
}
