package commands

import (
	"context"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A reference with an accented or Hangul letter reads the same whether its
// letters are composed (É, NFC, as most keyboards type it) or decomposed
// (E and a combining accent, NFD, as text copied from some systems holds
// it), and one with a no-break space or a Unicode hyphen reads as with the
// plain one: one payment, credited once, and one account's. Before, the
// two forms were two references: the transfer was credited twice, and the
// other account's payment was recorded beside it.
func TestTopUpReferenceInAnotherUnicodeFormIsTheSamePayment(t *testing.T) {
	for _, c := range []struct{ name, composed, decomposed string }{
		{"accent", "JOS\u00c9-20261128", "JOSE\u0301-20261128"},
		{"hangul", "\uac00\ub098-0042", "\u1100\u1161\u1102\u1161-0042"},
		// Spaces and hyphens that read as the plain ones, as a bank
		// statement's PDF or a web page gives them when copied.
		{"no-break space", "NB 001", "NB\u00a0001"},
		{"em space", "NB 001", "NB\u2003001"},
		{"hyphen", "NB-002", "NB\u2010002"},
		{"non-breaking hyphen", "NB-002", "NB\u2011002"},
		{"minus sign", "NB-002", "NB\u2212002"},
	} {
		for _, order := range []string{"plain first", "other first"} {
			t.Run(c.name+"/"+order, func(t *testing.T) {
				first, second := c.composed, c.decomposed
				if order == "other first" {
					first, second = second, first
				}
				h, ctx := newHandler(t), context.Background()
				acct := mustOpen(t, ctx, h, domain.PlanStarter)
				other := mustOpen(t, ctx, h, domain.PlanStarter)
				top := func(acct, ref string) domain.CreditsToppedUp {
					return domain.CreditsToppedUp{AccountID: acct, Amount: dec("5000"), Method: domain.MethodBankTransfer, Reference: ref}
				}
				if dup, err := h.TopUp(ctx, top(acct, first)); dup || err != nil {
					t.Fatalf("first transfer: %v %v", dup, err)
				}
				n := len(all(t, h))
				if dup, err := h.CheckTopUp(ctx, top(acct, second)); !dup || err != nil {
					t.Fatalf("check of the reference in the other form: duplicate=%v err=%v, want a duplicate", dup, err)
				}
				if dup, err := h.TopUp(ctx, top(acct, second)); !dup || err != nil {
					t.Fatalf("the reference in the other form: duplicate=%v err=%v, want a duplicate", dup, err)
				}
				if got := len(all(t, h)); got != n {
					t.Fatalf("the reference in the other form recorded %d more events", got-n)
				}
				_, err := h.TopUp(ctx, top(other, second))
				wantRefused(t, h, n, err, ErrConflict, acct)
				// Another process, whose read model holds nothing yet: the
				// store keeps one payment under the reference's ID.
				fresh := &Handler{Store: h.Store, Now: h.Now}
				_, err = fresh.TopUp(ctx, top(other, second))
				wantRefused(t, h, n, err, ErrConflict, acct)
			})
		}
	}
}
