package console

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

// The reconciliation shows used, invoiced and pending to the cent, and as
// shown they add up: rounded each on its own, NT$12.6149 invoiced and
// NT$0.0049 of late usage read NT$12.61 + NT$0.00 against NT$12.62 used.
func TestReconciliationAddsUpAsShown(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_r", "對帳測試股份有限公司", "12.6149")
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000099); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(e.ctx, "2026-02", invoicing.CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	key, _ := e.issueKey("acct_r")
	e.request("acct_r", key, "openai/gpt-4o-mini", "app", time.Date(2026, 2, 20, 12, 0, 0, 0, projections.Taipei), 10, 5, "0.0049")
	e.sync()

	b := e.browser()
	b.signIn(e.finance)
	_, page := b.get("/console/invoices?month=2026-02")
	shown := func(what, html string) (used, invoiced, pending decimal.Decimal) {
		t.Helper()
		m := regexp.MustCompile(`(?s)class="num">(-?NT\$[0-9,.]+)</td><td[^>]*class="num">(-?NT\$[0-9,.]+)</td><td[^>]*class="num">(-?NT\$[0-9,.]+)</td>`).FindStringSubmatch(html)
		if m == nil {
			t.Fatalf("%s: no used, invoiced and pending in %s", what, html)
		}
		var d [3]decimal.Decimal
		for i, s := range m[1:] {
			d[i] = decimal.RequireFromString(strings.NewReplacer("NT$", "", ",", "").Replace(s))
		}
		return d[0], d[1], d[2]
	}
	row := regexp.MustCompile(`(?s)<tr data-account="acct_r" data-basis="usage".*?</tr>`).FindString(page)
	used, invoiced, pending := shown("acct_r's row", row)
	if !used.Equal(decimal.RequireFromString("12.62")) || !invoiced.Add(pending).Equal(used) {
		t.Errorf("acct_r's row shows used %s, invoiced %s, pending %s: want 12.62 and parts that add up to it", used, invoiced, pending)
	}
	total := regexp.MustCompile(`(?s)<tr id="recon-total".*?</tr>`).FindString(page)
	used, invoiced, pending = shown("the total", total)
	if !invoiced.Add(pending).Equal(used) {
		t.Errorf("the total shows used %s, invoiced %s, pending %s: they do not add up", used, invoiced, pending)
	}
	// Pending by reason adds up to the pending shown.
	sum := decimal.Zero
	for _, m := range regexp.MustCompile(`<div>[^<]*: (NT\$[0-9,.]+)</div>`).FindAllStringSubmatch(total, -1) {
		sum = sum.Add(decimal.RequireFromString(strings.NewReplacer("NT$", "", ",", "").Replace(m[1])))
	}
	if !sum.Equal(pending) {
		t.Errorf("pending by reason adds up to %s, the pending shown is %s", sum, pending)
	}
}

// Paid credit given back by a negative adjustment is listed for finance
// with the allowance due on the account's top-up invoice, until one is
// issued.
func TestRefundedPaidCreditIsListedForAnAllowance(t *testing.T) {
	e := newEnv(t, false)
	e.openBuyer("acct_refund", "退款測試有限公司", "04595257", domain.PlanStarter) // B2B: allowed before filing
	e.invoice("acct_refund", "AB10000000", projections.MonthOf(e.clock.Now()))
	if err := e.cmds.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "acct_refund", Amount: decimal.NewFromInt(-400), Reason: "refund"}); err != nil {
		t.Fatal(err)
	}
	e.sync()
	b := e.browser()
	b.signIn(e.finance)
	_, page := b.get("/console/invoices")
	row := regexp.MustCompile(`(?s)<tr data-account="acct_refund" data-to-allow="400">.*?</tr>`).FindString(page)
	if row == "" || !strings.Contains(row, "AB10000000") || !strings.Contains(row, "NT$400") {
		t.Fatalf("no refund row naming NT$400 to allow on AB10000000:\n%s", page)
	}
	svc := e.deps.Invoices.(*invoicing.Service)
	if _, err := svc.IssueAllowance(e.ctx, "AB10000000", 400, "退款"); err != nil {
		t.Fatal(err)
	}
	e.sync()
	_, page = b.get("/console/invoices")
	if !strings.Contains(page, `<tr data-account="acct_refund" data-to-allow="0">`) {
		t.Fatalf("the refund is still due after its allowance:\n%s", page)
	}
}
