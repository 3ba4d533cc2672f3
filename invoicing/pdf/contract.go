package pdf

import (
	"fmt"
	"io"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// ContractOptions fill the clauses of a contract; empty texts take defaults.
type ContractOptions struct {
	IssuedAt      time.Time // signing date; zero means the service start
	PaymentTerms  string
	ServiceLevel  string
	DataResidency string
}

func (o ContractOptions) withDefaults(c domain.ContractIssued, seller Seller) ContractOptions {
	if o.IssuedAt.IsZero() {
		o.IssuedAt = c.PeriodStart
	}
	if o.PaymentTerms == "" {
		o.PaymentTerms = "乙方於每月五日前依前月實際用量開立電子發票，甲方於收受發票後三十日內以匯款方式給付"
		if seller.BankAccount != "" {
			o.PaymentTerms += "至乙方帳戶（" + seller.BankAccount + "）"
		}
		o.PaymentTerms += "，匯費由甲方負擔。"
	}
	if o.ServiceLevel == "" {
		o.ServiceLevel = "服務每月可用率不低於99.9%；重大異常於一小時內回應，並於事後五個工作日內提出事件報告。"
	}
	if o.DataResidency == "" {
		o.DataResidency = "乙方處理之帳務、用量及稽核資料均存放於中華民國（臺灣）境內；乙方不保存甲方傳送之訊息內容，並依個人資料保護法辦理。"
	}
	return o
}

// planLabel names a plan in the contract.
func planLabel(p domain.Plan) string {
	switch p {
	case domain.PlanStarter:
		return "Starter 方案（預付儲值）"
	case domain.PlanBusiness:
		return "Business 方案（月結）"
	case domain.PlanEnterprise:
		return "Enterprise 方案（月結，客製速率與額度）"
	}
	return string(p)
}

// RenderContract writes the 契約書 that turns accepted quote q into a
// service contract: both parties with 統一編號 and addresses, the quoted
// items and total (with capital numerals), the service period, plan and
// service level, payment terms, data kept in Taiwan, and signature and seal
// blocks for both parties.
func (r *Renderer) RenderContract(w io.Writer, c domain.ContractIssued, q domain.QuoteIssued, seller Seller, opts ContractOptions) error {
	if c.QuoteID != q.QuoteID {
		return fmt.Errorf("pdf: contract %s refers to quote %s, not %s", c.ContractID, c.QuoteID, q.QuoteID)
	}
	if !c.PeriodEnd.After(c.PeriodStart) {
		return fmt.Errorf("pdf: contract %s: service period ends before it starts", c.ContractID)
	}
	if err := checkQuote(q, seller); err != nil {
		return err
	}
	opts = opts.withDefaults(c, seller)
	texts := append(quoteTexts(q, seller), c.ContractID, opts.PaymentTerms, opts.ServiceLevel, opts.DataResidency, planLabel(c.Plan))
	return r.render(w, "contract", "契約書 "+c.ContractID, opts.IssuedAt, texts, func(d doc) error {
		drawContract(d, c, q, seller, opts)
		return nil
	})
}

func drawContract(d doc, c domain.ContractIssued, q domain.QuoteIssued, seller Seller, opts ContractOptions) {
	pageNumbers(d, "契約編號 "+c.ContractID)
	d.strong(margin, 15, contentW, 11, 20, "AI API 服務契約書", "C")
	d.cell(margin, 27, contentW, 6, 10, "契約編號："+c.ContractID+"　依據報價單號："+q.QuoteID, "C", "")
	y := 37.0
	party := func(role, name, taxID, addr, rep string) {
		y = d.para(margin, y, contentW, 6, 10.5, role+"："+name)
		line := "統一編號：" + taxID + "　地址：" + addr
		if rep != "" {
			line += "　負責人：" + rep
		}
		y = d.para(margin+8, y, contentW-8, 5.5, 10, line) + 1
	}
	d.cell(margin, y, contentW, 6, 10.5, "立契約書人", "L", "")
	y += 7
	party("甲方（委託機關）", q.Agency, q.AgencyTaxID, q.AgencyAddr, "")
	party("乙方（服務廠商）", seller.Name, seller.TaxID, seller.Address, seller.Responsible)
	y = d.para(margin, y+2, contentW, 5.5, 10.5, "雙方同意依下列條款訂立本契約，共同遵守：")

	clause := func(title, body string) {
		y = d.para(margin, y+2, contentW, 5.5, 10.5, title+"　"+body)
	}
	clause("第一條　契約標的", "乙方依報價單（編號 "+q.QuoteID+"）提供下列服務：")
	rows := make([][]string, len(q.Items))
	for i, it := range q.Items {
		rows[i] = []string{it.Name, it.Spec, num(it.Quantity), it.Unit, exact(it.UnitPrice), exact(it.Quantity.Mul(it.UnitPrice))}
	}
	y = d.table(margin, y+1, []column{
		{"品名", 44, "L"}, {"規格", 50, "L"}, {"數量", 18, "R"}, {"單位", 20, "C"}, {"單價", 24, "R"}, {"金額", 24, "R"},
	}, rows, 9.5)
	clause("第二條　契約價金", fmt.Sprintf("小計新臺幣%s元，營業稅%s元，總計%s（含稅，新臺幣%s元）。",
		ntd(q.Subtotal), ntd(q.Tax), twrules.UpperNTDPhrase(q.Total), ntd(q.Total)))
	// PeriodEnd is exclusive (the instant the service stops); print its last day.
	clause("第三條　服務期間", "自"+twrules.ROCDateLabel(c.PeriodStart)+"起至"+
		twrules.ROCDateLabel(c.PeriodEnd.Add(-time.Nanosecond))+"止。")
	clause("第四條　服務方案及服務水準", "方案："+planLabel(c.Plan)+"。"+opts.ServiceLevel)
	clause("第五條　付款條件", opts.PaymentTerms)
	clause("第六條　資料存放及保護", opts.DataResidency)
	clause("第七條　其他", "本契約未盡事宜，依政府採購法、民法及相關法令辦理。本契約一式二份，由雙方各執一份為憑。")
	signatures(d, y+6, q, seller)
	d.cell(margin, 272, contentW, 6, 11, twrules.ROCDateLabel(opts.IssuedAt), "C", "")
}

// signatures draws both parties' signature and seal blocks side by side,
// each party's lines wrapped to its half of the page.
func signatures(d doc, y float64, q domain.QuoteIssued, s Seller) {
	half := contentW / 2
	wrap := func(lines ...string) []string {
		var out []string
		for _, l := range lines {
			out = append(out, d.lines(l, half-4, 10)...)
		}
		return out
	}
	agency := wrap("甲方："+q.Agency, "代表人：", "統一編號："+q.AgencyTaxID)
	vendor := wrap("乙方："+s.Name, "負責人："+s.Responsible, "統一編號："+s.TaxID)
	_, pageH := d.GetPageSize()
	if y+float64(max(len(agency), len(vendor)))*6+44 > pageH-margin-10 {
		d.AddPage()
		y = margin
	}
	block := func(x float64, lines []string, seals []string) {
		for i, l := range lines {
			d.cell(x, y+float64(i)*6, half-4, 6, 10, l, "L", "")
		}
		sy := y + float64(len(lines))*6 + 2
		sx := x
		for i, name := range seals {
			size := 36.0
			if i > 0 {
				size = 20
			}
			d.cell(sx, sy, size, 5, 9, name, "C", "")
			d.Rect(sx, sy+6, size, size, "D")
			sx += size + 6
		}
	}
	block(margin, agency, []string{"機關印信", "代表人章"})
	block(margin+half, vendor, []string{"公司印鑑", "負責人印鑑"})
}
