package invoicing

import (
	"errors"
	"testing"

	"github.com/routefree/routefree/domain"
)

// The September–October 2026 period is filed by 15 November, a Sunday, so
// its deadline moves to Monday the 16th (行政程序法 §48 IV). All Monday the
// void window is open: the B2C invoice is voided (taking an amount off its
// re-issue), not given an allowance; a special void is not yet the way.
// From Tuesday 17 November the window is closed: the allowance is taken,
// and a void is refused naming Monday as the last day.
func TestAFilingDeadlineOnASundayMovesToMonday(t *testing.T) {
	e := newEnv(t, taipei(2026, 10, 10, 9, 0))
	e.assign("2026-09", "AB", 100, 199)
	invs := map[string]Invoice{}
	for _, c := range []struct{ acct, taxID string }{{"solo", ""}, {"firm", "04595257"}, {"late", ""}} {
		e.open(c.acct, "王小明工作室", c.taxID, domain.PlanEnterprise)
		e.use(c.acct, "gpt-4o", taipei(2026, 10, 3, 10, 0), 10, 10, "1000")
		inv, _, err := e.svc.IssueMonthly(e.ctx, c.acct, "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		invs[c.acct] = inv
	}

	e.clock.Set(taipei(2026, 11, 16, 23, 59))
	for acct, inv := range invs {
		if late := e.svc.VoidWindowClosed(inv); late != nil {
			t.Fatalf("%s's invoice: the void window is closed on Monday 16 November: %v", acct, late)
		}
	}
	_, err := e.svc.IssueAllowance(e.ctx, invs["solo"].Number, 300, "服務中斷補償")
	var b2c *B2CAllowanceError
	if !errors.As(err, &b2c) || b2c.LastDay != "2026-11-16" || b2c.From != "2026-11-17" {
		t.Fatalf("allowance on the B2C invoice on Monday 16 November: %v, want b2c_void_window_open through 2026-11-16", err)
	}
	var early *SpecialVoidEarlyError
	_, err = e.svc.SpecialVoid(e.ctx, invs["firm"].Number, "買受人錯誤", domain.SpecialVoid{Approval: "北區國稅審字第1150001234號", ApprovedOn: "2026-11-16"})
	if !errors.As(err, &early) || early.LastDay != "2026-11-16" {
		t.Fatalf("special void on the filing day: %v", err)
	}
	if _, err := e.svc.VoidLess(e.ctx, invs["solo"].Number, "折讓改作廢重開", 300); err != nil {
		t.Fatalf("void of the B2C invoice on Monday 16 November: %v", err)
	}
	if _, err := e.svc.Void(e.ctx, invs["firm"].Number, "買受人資料誤植"); err != nil {
		t.Fatalf("void of the B2B invoice on Monday 16 November: %v", err)
	}

	e.clock.Set(taipei(2026, 11, 17, 0, 0))
	late := invs["late"]
	var werr *VoidWindowError
	if _, err := e.svc.Void(e.ctx, late.Number, "買受人資料誤植"); !errors.As(err, &werr) || werr.LastDay != "2026-11-16" {
		t.Fatalf("void on Tuesday 17 November: %v, want the window closed after 2026-11-16", err)
	}
	if _, err := e.svc.IssueAllowance(e.ctx, late.Number, 300, "服務中斷補償"); err != nil {
		t.Fatalf("allowance on the B2C invoice once filed: %v", err)
	}
}
