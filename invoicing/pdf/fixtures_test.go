package pdf

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// testKey is a made-up issuer AES key.
const testKey = "6A1F9E2C4B7D8E0F13579BDF2468ACE0"

func testSeller() Seller {
	return Seller{
		Name: "路由自由股份有限公司", TaxID: "12345675", Address: "臺北市信義區市府路45號",
		Phone: "02-2720-1234", Email: "billing@routefree.tw", Contact: "王小明",
		Responsible: "陳大文", BankAccount: "臺灣銀行 信義分行 012-345678-90",
	}
}

func testRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := New(Config{QRKeyHex: testKey})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// b2bInvoice is the reference's worked example: 11,714 net + 586 tax.
func b2bInvoice() domain.InvoiceIssued {
	return domain.InvoiceIssued{
		Number: "AB12345678", Period: "2026-11", AccountID: "acct-1", Month: "2026-10",
		Kind: "b2b", BuyerName: "台灣積體電路製造股份有限公司", BuyerTaxID: "22099131",
		RandomCode: "1234",
		Lines: []domain.InvoiceLine{
			{Description: "AI API 呼叫費用（2026年10月）", Quantity: dec("1"), Unit: "式", UnitPrice: dec("8000"), Amount: dec("8000")},
			{Description: "gpt-4o 輸出 tokens", Quantity: dec("3.5"), Unit: "百萬tokens", UnitPrice: dec("1061.7"), Amount: dec("3715.95")},
		},
		Sales: 11714, Tax: 586, Total: 12300,
		IssuedAt: time.Date(2026, 11, 5, 6, 30, 0, 0, time.UTC), // 14:30 in Taipei
	}
}

func b2cInvoice() domain.InvoiceIssued {
	sales, tax := twrules.SplitInclusive(5500)
	return domain.InvoiceIssued{
		Number: "CD00000042", Period: "2026-11", AccountID: "acct-2", TopUpRef: "TOPUP-7788",
		Kind: "b2c", RandomCode: "0071", Carrier: "/ABC+123",
		Lines: []domain.InvoiceLine{
			{Description: "API 儲值", Quantity: dec("1"), Unit: "筆", UnitPrice: dec("5500"), Amount: dec("5500")},
		},
		Sales: sales, Tax: tax, Total: 5500,
		IssuedAt: time.Date(2026, 11, 30, 17, 30, 0, 0, time.UTC), // 1 Dec in Taipei
	}
}

func testQuote() domain.QuoteIssued {
	items := []domain.QuoteItem{
		{Name: "AI API 服務（月費）", Spec: "Business 方案，含 RPM 600 速率", Quantity: dec("12"), Unit: "月", UnitPrice: dec("500")},
		{Name: "模型用量", Spec: "gpt-4o 輸入 tokens，依實際用量計價", Quantity: dec("20"), Unit: "百萬tokens", UnitPrice: dec("285.7")},
	}
	net := decimal.Zero
	for _, it := range items {
		net = net.Add(it.Quantity.Mul(it.UnitPrice))
	}
	sales, tax, total := twrules.NetTotals(net) // 11,714 + 586 = 12,300
	return domain.QuoteIssued{
		QuoteID: "Q-2026-0042", Agency: "臺北市政府資訊局", AgencyTaxID: "04595257",
		Contact: "林承辦 02-2720-8889", Items: items, ValidDays: 30,
		Remarks: "服務期間內單價不調漲。", Subtotal: sales, Tax: tax, Total: total,
		IssuedAt:   time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC),
		AgencyAddr: "臺北市信義區市府路1號", ContractPlan: "business",
	}
}

func testContract() domain.ContractIssued {
	return domain.ContractIssued{
		ContractID: "C-2026-0007", QuoteID: "Q-2026-0042",
		PeriodStart: time.Date(2027, 1, 1, 0, 0, 0, 0, twrules.Taipei),
		PeriodEnd:   time.Date(2028, 1, 1, 0, 0, 0, 0, twrules.Taipei),
		Plan:        domain.PlanBusiness,
	}
}

func domainAllowance() domain.AllowanceIssued {
	return domain.AllowanceIssued{Number: "AL2026120001", InvoiceNumber: "AB12345678", Sales: 1000, Tax: 50, Reason: "服務中斷補償"}
}
