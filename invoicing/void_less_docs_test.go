package invoicing

import (
	"bytes"
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// The re-issue of an invoice voided for less says, on its A4 proof and on
// the 5.7 cm one, how much it takes off and which voided invoice it
// replaces: its lower total alone would leave the buyer to guess. An
// ordinary re-issue says nothing of an amount off.
func TestTheReissueOfAVoidForLessSaysWhatItTookOffAndWhatItReplaces(t *testing.T) {
	e, _, acme, solo := raceEnv(t)
	if _, err := e.svc.VoidLess(e.ctx, solo.Number, "折讓改作廢重開", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VoidLess(e.ctx, acme.Number, "買方資料有誤", 0); err != nil {
		t.Fatal(err)
	}
	re, _, err := e.svc.IssueMonthly(e.ctx, "solo", "2026-11")
	if err != nil || re.Less != 5 {
		t.Fatalf("re-issue %+v: %v", re.InvoiceIssued, err)
	}
	plain, _, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil || plain.Less != 0 || len(plain.Replaces) != 1 {
		t.Fatalf("re-issue %+v: %v", plain.InvoiceIssued, err)
	}
	voided := solo.Number[:2] + "-" + solo.Number[2:]
	for name, render := range map[string]func(*bytes.Buffer, string) error{
		"A4":      func(b *bytes.Buffer, n string) error { return e.svc.InvoicePDF(b, n) },
		"thermal": func(b *bytes.Buffer, n string) error { return e.svc.ThermalPDF(b, n) },
	} {
		var buf bytes.Buffer
		if err := render(&buf, re.Number); err != nil {
			t.Fatal(name, err)
		}
		// One remark, read back without line breaks (the 5.7 cm roll wraps
		// it), names both the amount and the invoice.
		text := strings.Join(strings.Fields(pdftest.Text(t, buf.Bytes())), "")
		pdftest.MustContain(t, text, "重開：本發票取代已作廢之發票"+voided+"，減收NT$5（作廢時約定，已自總計扣除）")
		buf.Reset()
		if err := render(&buf, plain.Number); err != nil {
			t.Fatal(name, err)
		}
		text = strings.Join(strings.Fields(pdftest.Text(t, buf.Bytes())), "")
		pdftest.MustContain(t, text, "重開：本發票取代已作廢之發票"+acme.Number[:2]+"-"+acme.Number[2:])
		if strings.Contains(text, "減收") {
			t.Errorf("%s proof of a re-issue taking nothing off speaks of an amount off:\n%s", name, text)
		}
	}
}
