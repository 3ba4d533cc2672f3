package invoicing

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf"
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

// A re-issue's A4 proof kept in the document cache by a release that did
// not print the amount off is not served again: the cache names it by its
// layout too, so it is rendered anew with the amount. Other proofs keep
// their cached names.
func TestACachedReissueWithoutItsAmountOffIsRenderedAgain(t *testing.T) {
	e, _, acme, solo := raceEnv(t)
	if _, err := e.svc.VoidLess(e.ctx, solo.Number, "折讓改作廢重開", 5); err != nil {
		t.Fatal(err)
	}
	re, _, err := e.svc.IssueMonthly(e.ctx, "solo", "2026-11")
	if err != nil || re.Less != 5 {
		t.Fatalf("re-issue %+v: %v", re.InvoiceIssued, err)
	}
	dir := t.TempDir()
	svc, err := New(e.store, Config{Seller: DevSeller(), Now: e.clock.Now, CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	// What the earlier release rendered and kept: the proof without the
	// amount, under the name it gave it.
	earlierName := func(inv Invoice) string {
		h := sha256.New()
		if err := json.NewEncoder(h).Encode(struct {
			Invoice    domain.InvoiceIssued
			Event      uuid.UUID
			Voided     bool
			VoidReason string
			VoidedAt   time.Time
			Seller     pdf.Seller
			Font, QR   string
		}{inv.InvoiceIssued, inv.EventID, inv.Voided, inv.VoidReason, inv.VoidedAt, svc.seller.PDF(), svc.seller.FontPath, svc.seller.QRKeyHex}); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s-%s-%x.pdf", inv.Period, inv.Number, h.Sum(nil)[:12])
	}
	stored, err := svc.Invoice(re.Number)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err = svc.document(e.ctx, stored); err != nil {
		t.Fatal(err)
	}
	earlier := stored.InvoiceIssued
	earlier.Less = 0
	var old bytes.Buffer
	if err := svc.renderer.RenderInvoice(&old, earlier, svc.seller.PDF(), pdf.InvoiceOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "invoices"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "invoices", earlierName(stored)), old.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := svc.InvoicePDF(&buf, re.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "減收 NT$5")

	// A proof whose layout did not change keeps its name.
	other, err := svc.Invoice(acme.Number)
	if err != nil {
		t.Fatal(err)
	}
	if other, err = svc.document(e.ctx, other); err != nil {
		t.Fatal(err)
	}
	if name, err := svc.documentName(other); err != nil || name != earlierName(other) {
		t.Errorf("the cached name of an unchanged proof: %s (%v), was %s", name, err, earlierName(other))
	}
}
