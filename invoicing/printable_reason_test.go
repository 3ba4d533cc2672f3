package invoicing

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// A reason the documents' font cannot print is refused when the allowance
// or void is made, naming the characters; nothing is recorded.
func TestUnprintableReasonIsRefused(t *testing.T) {
	e, _, acme, solo := raceEnv(t)
	a, err := e.svc.IssueAllowance(e.ctx, acme.Number, 100, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	for name, try := range map[string]func() error{
		"allowance": func() error { _, err := e.svc.IssueAllowance(e.ctx, acme.Number, 5, "退款 堃 😀"); return err },
		"void":      func() error { _, err := e.svc.Void(e.ctx, solo.Number, "堃記誤植"); return err },
		"allowance void": func() error {
			_, err := e.svc.VoidAllowance(e.ctx, a.Number, "堃記誤植")
			return err
		},
	} {
		err := try()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "堃") || !strings.Contains(err.Error(), "U+5803") {
			t.Fatalf("%s with 堃: %v", name, err)
		}
		if name == "allowance" && !strings.Contains(err.Error(), "U+1F600") {
			t.Fatalf("%s with 😀: %v", name, err)
		}
	}
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if inv, _ := fresh.Invoice(acme.Number); len(inv.Allowances) != 1 || inv.Allowances[0].Voided {
		t.Fatalf("allowances after refusals: %+v", inv.Allowances)
	}
	if inv, _ := fresh.Invoice(solo.Number); inv.Voided {
		t.Fatal("invoice voided by a refused void")
	}
}

// Reasons already stored with characters the font cannot print do not make
// their documents unreadable: each such character prints as □.
func TestStoredUnprintableReasonPrintsABox(t *testing.T) {
	e, _, acme, solo := raceEnv(t)
	at := taipei(2026, 12, 2, 10, 0)
	allowNumber := "11512" + acme.Number + "1"
	e.appendRaw(acme, "allowance", at, &domain.AllowanceIssued{Number: allowNumber, InvoiceNumber: acme.Number,
		Sales: 5, Tax: 0, Reason: "退款 堃 😀"})
	e.appendRaw(solo, "void", at, &domain.InvoiceVoided{Number: solo.Number, Reason: "堃記誤植"})
	svc := e.newService()
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := svc.AllowancePDF(&buf, allowNumber); err != nil {
		t.Fatalf("allowance PDF: %v", err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "退款 □ □", allowNumber)
	for name, render := range map[string]func(w io.Writer) error{
		"A4":      func(w io.Writer) error { return svc.InvoicePDF(w, solo.Number) },
		"thermal": func(w io.Writer) error { return svc.ThermalPDF(w, solo.Number) },
	} {
		buf.Reset()
		if err := render(&buf); err != nil {
			t.Fatalf("%s PDF of the voided invoice: %v", name, err)
		}
		pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "作廢原因：□記誤植")
	}
	// And the allowance's void.
	if _, err := svc.VoidAllowance(e.ctx, allowNumber, "重複折讓"); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := svc.AllowancePDF(&buf, allowNumber); err != nil {
		t.Fatalf("voided allowance PDF: %v", err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "退款 □ □", "作廢原因：重複折讓")
}
