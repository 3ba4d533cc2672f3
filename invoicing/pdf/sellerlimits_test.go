package pdf

import (
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// A seller's phone, e-mail, contact, 負責人 and bank account at the
// longest the configuration takes (26, 254, 30, 30 and 60 characters)
// print whole on the quote and the contract, and the quote's header takes
// no more pages than the everyday one (a contract moves its signatures to
// a page of their own when they do not fit, by design).
func TestSellerTextsAtTheirLimitsPrintWhole(t *testing.T) {
	r := testRenderer(t)
	s := testSeller()
	s.Phone = "+886-2-2720-1234#123456789"
	s.Email = strings.Repeat("abcdefghij", 24) + "@routefree.com"
	s.Contact, s.Responsible = long(r, 500, 30), long(r, 530, 30)
	s.BankAccount = long(r, 560, 20) + " " + strings.Repeat("0123456789", 3) + " " + long(r, 580, 8)
	for _, n := range []struct {
		text string
		want int
	}{{s.Phone, 26}, {s.Email, 254}, {s.Contact, 30}, {s.Responsible, 30}, {s.BankAccount, 60}} {
		if got := len([]rune(n.text)); got != n.want {
			t.Fatalf("%.10s… is %d characters, want %d", n.text, got, n.want)
		}
	}
	q := testQuote()
	squeeze := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, s)
	}
	for _, c := range []struct {
		name  string
		print func(Seller) func(*bytes.Buffer) error
		want  []string
	}{
		{"quote", func(s Seller) func(*bytes.Buffer) error {
			return func(b *bytes.Buffer) error { return r.RenderQuote(b, q, s) }
		}, []string{s.Phone, s.Email, s.Contact, s.Responsible}},
		{"contract", func(s Seller) func(*bytes.Buffer) error {
			return func(b *bytes.Buffer) error { return r.RenderContract(b, testContract(), q, s, ContractOptions{}) }
		}, []string{s.Responsible, s.BankAccount}},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := pdftest.RawText(t, render(t, c.print(s)))
			text := squeeze(raw)
			for _, w := range c.want {
				if !strings.Contains(text, squeeze(w)) {
					t.Errorf("%.12s… (%d characters) is not printed whole", w, len([]rune(w)))
				}
			}
			if c.name != "quote" {
				return
			}
			everyday := pdftest.RawText(t, render(t, c.print(testSeller())))
			if got, want := strings.Count(raw, "\f"), strings.Count(everyday, "\f"); got > want {
				t.Errorf("%d pages at the limits, %d with everyday texts", got, want)
			}
		})
	}
}
