package commands

import (
	"context"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// Every free text a command records (a top-up's reference, the reasons of
// adjustments, suspensions and resumptions, a staff token's name) is
// bounded and holds no control or bidirectional-override characters, as a
// key's name: it is shown in the audit log, lists, CSV files and the
// operator's terminal (staff list, accounts show), and kept for good. A
// refusal names the field and records nothing.
func TestFreeTextIsBoundedAndPlain(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	suspended := mustOpen(t, ctx, h, domain.PlanStarter)
	if err := h.SuspendAccount(ctx, suspended, "test"); err != nil {
		t.Fatal(err)
	}
	fields := []struct {
		name string
		max  int
		try  func(text string) error
	}{
		{"reference", maxReference, func(s string) error {
			_, err := h.TopUp(ctx, domain.CreditsToppedUp{AccountID: acct, Amount: dec("10"), Method: domain.MethodBankTransfer, Reference: s})
			return err
		}},
		{"reason", maxReason, func(s string) error {
			return h.Adjust(ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec("1"), Reason: s})
		}},
		{"reason", maxReason, func(s string) error { return h.SuspendAccount(ctx, acct, s) }},
		{"reason", maxReason, func(s string) error { return h.ResumeAccount(ctx, suspended, s) }},
		{"name", maxKeyName, func(s string) error { _, _, err := h.IssueStaffToken(ctx, "finance", s); return err }},
	}
	before := len(all(t, h))
	for i, f := range fields {
		for _, bad := range []string{
			"TX\x00-1", "a\nb", "\x1b[31mred", "x\u202eevil", "x\u2066y", "\x7f", "bad \xff utf-8",
			strings.Repeat("理", f.max+1),
		} {
			if err := f.try(bad); err == nil || !strings.Contains(err.Error(), f.name) {
				t.Errorf("field %d (%s) %q: %v, want a refusal naming it", i, f.name, trim(bad), err)
			}
		}
	}
	if n := len(all(t, h)) - before; n != 0 {
		t.Fatalf("refused texts recorded %d events", n)
	}
	// At the bound, with letters of any script and spaces inside, each is taken.
	for i, f := range fields {
		if err := f.try(strings.Repeat("理", f.max-5) + " 退款 é"); err != nil {
			t.Errorf("field %d (%s) at its bound: %v", i, f.name, err)
		}
	}
}

func trim(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
