package invoicing

import (
	"errors"
	"strings"
	"testing"
)

// A void's reason with a control character was accepted (the font check
// passes characters below U+0020): the PDF carried it as it was, and
// F0501's CancelReason, where XML 1.0 allows no such character, carried
// U+FFFD in its place. It is refused, naming the character, as an
// allowance's or a withdrawal's reason is.
func TestVoidReasonWithAControlCharacterIsRefused(t *testing.T) {
	e, _, acme, solo := raceEnv(t)
	a, err := e.svc.IssueAllowance(e.ctx, acme.Number, 100, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	for name, void := range map[string]func(reason string) error{
		"invoice": func(r string) error { _, err := e.svc.Void(e.ctx, solo.Number, r); return err },
		"allowance": func(r string) error {
			_, err := e.svc.VoidAllowance(e.ctx, a.Number, r)
			return err
		},
	} {
		for _, bad := range []string{"統編\a誤植", "統編\x1b[2J誤植", "統編\x00誤植", "統編\n誤植"} {
			err := void(bad)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "control character") {
				t.Errorf("%s void with %q: %v", name, bad, err)
			}
		}
	}
	if inv, _ := e.svc.Invoice(solo.Number); inv.Voided {
		t.Fatalf("invoice voided with %q", inv.VoidReason)
	}
	if inv, _ := e.svc.Invoice(acme.Number); inv.Allowances[0].Voided {
		t.Fatal("allowance voided")
	}
}
