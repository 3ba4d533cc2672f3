package invoicing

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// An organisation name longer than an e-invoice's buyer name (60
// characters in MIG 4.1) is refused when the account opens: its invoices
// could be issued but never filed, and a period's export would fail for
// every invoice in it.
func TestLongNameRefusedAtOpening(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	long := strings.Repeat("長", 61)
	_, err := e.cmd.OpenAccount(e.ctx, domain.AccountOpened{AccountID: "long", Organisation: long, TaxID: "22099131", Plan: domain.PlanBusiness})
	if !errors.Is(err, commands.ErrInvalid) || !strings.Contains(err.Error(), "60") {
		t.Fatalf("opening with a 61-character name: %v", err)
	}
	if _, err := e.cmd.OpenAccount(e.ctx, domain.AccountOpened{AccountID: "ok", Organisation: long[:len(long)-len("長")], TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatalf("a 60-character name refused: %v", err)
	}
}

// An account opened before the check gets no invoice that cannot be
// filed: the issue is refused, naming why, and the period's other
// invoices still export.
func TestLongBuyerIsNotInvoiced(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	d, err := commands.Event(domain.EventID("test", "long"), e.clock.Now(), &domain.AccountOpened{AccountID: "long",
		Organisation: strings.Repeat("長", 61), TaxID: "22099131", Plan: domain.PlanBusiness})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, domain.AccountStream("long"), eventstore.NoStream(), d); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cmd.OpenAccount(e.ctx, domain.AccountOpened{AccountID: "short", Organisation: "短公司", TaxID: "04595257", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	e.use("long", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1, 1, "100")
	e.use("short", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1, 1, "100")
	e.clock.Set(taipei(2026, 11, 20, 10, 0))
	_, _, err = e.svc.IssueMonthly(e.ctx, "long", "2026-11")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "60") {
		t.Fatalf("issue for a buyer whose name no invoice can carry: %v", err)
	}
	if _, _, err := e.svc.IssueMonthly(e.ctx, "short", "2026-11"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.svc.PeriodInvoices("2026-11")); n != 1 {
		t.Fatalf("%d invoices issued, want the short name's only", n)
	}
	var zip bytes.Buffer
	if err := e.svc.ExportF0401(&zip, "2026-11"); err != nil {
		t.Fatalf("the period's export: %v", err)
	}
}
