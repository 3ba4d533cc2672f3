package invoicing

import (
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// A name the invoice font cannot print is refused when the account opens,
// with a message naming the character.
func TestUnprintableNameRefusedAtOpening(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	_, err := e.cmd.OpenAccount(e.ctx, domain.AccountOpened{AccountID: "rare", Organisation: "𠀋記科技有限公司", TaxID: "22099131", Plan: domain.PlanBusiness})
	if err == nil || !strings.Contains(err.Error(), "𠀋") || !strings.Contains(err.Error(), "U+2000B") {
		t.Fatalf("opening with 𠀋: %v", err)
	}
	if _, err := e.cmd.OpenAccount(e.ctx, domain.AccountOpened{AccountID: "ok", Organisation: "鑫記科技有限公司", Plan: domain.PlanBusiness}); err != nil {
		t.Fatalf("a printable name refused: %v", err)
	}
	// The embedded 明體 covers Big5, not 堃 or 喆: refused, not issued blank.
	if _, err := e.cmd.OpenAccount(e.ctx, domain.AccountOpened{AccountID: "rare2", Organisation: "堃喆股份有限公司", Plan: domain.PlanBusiness}); err == nil || !strings.Contains(err.Error(), "U+5803") {
		t.Fatalf("堃: %v", err)
	}
}

// An account opened before the check (its event is in history) gets no
// invoice that cannot be printed: the issue is refused, naming why.
func TestUnprintableBuyerIsNotInvoiced(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	d, err := commands.Event(domain.EventID("test", "rare"), e.clock.Now(), &domain.AccountOpened{AccountID: "rare",
		Organisation: "𠀋記科技有限公司", TaxID: "22099131", Plan: domain.PlanBusiness})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, domain.AccountStream("rare"), eventstore.NoStream(), d); err != nil {
		t.Fatal(err)
	}
	e.use("rare", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1, 1, "100")
	e.clock.Set(taipei(2026, 11, 20, 10, 0))
	_, _, err = e.svc.IssueMonthly(e.ctx, "rare", "2026-11")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "𠀋") {
		t.Fatalf("issue for an unprintable buyer: %v", err)
	}
	if n := len(e.svc.PeriodInvoices("2026-11")); n != 0 {
		t.Fatalf("%d invoices issued", n)
	}
}
