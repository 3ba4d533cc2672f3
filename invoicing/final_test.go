package invoicing

import (
	"bytes"
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// renderAll renders what an invoice is shown as: its proof's text, its
// F0401 export and the PDF of its allowance.
func renderAll(t *testing.T, svc *Service, number, allowance string) (text string, f0401, allowanceText []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := svc.RenderInvoice(&buf, mustInvoice(t, svc, number)); err != nil {
		t.Fatal(err)
	}
	text = pdftest.Text(t, buf.Bytes())
	buf.Reset()
	if err := svc.ExportF0401(&buf, "2026-11"); err != nil {
		t.Fatal(err)
	}
	f0401 = append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	if err := svc.AllowancePDF(&buf, allowance); err != nil {
		t.Fatal(err)
	}
	return text, f0401, []byte(pdftest.Text(t, buf.Bytes()))
}

func mustInvoice(t *testing.T, svc *Service, number string) Invoice {
	t.Helper()
	inv, err := svc.Invoice(number)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// Golden: an issued invoice renders the same after the seller's
// configuration changes, because its event holds the seller it was
// issued by.
func TestInvoiceRendersTheSellerItWasIssuedBy(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv := rep.Issued[0]
	if inv.Seller == nil || inv.Seller.Name != DevSeller().Name || inv.Seller.TaxID != DevSeller().TaxID || inv.Seller.Address != DevSeller().Address {
		t.Fatalf("event seller %+v", inv.Seller)
	}
	e.clock.Set(taipei(2026, 12, 2, 10, 0))
	al, err := e.svc.IssueAllowance(e.ctx, inv.Number, 100, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	before, beforeXML, beforeAl := renderAll(t, e.svc, inv.Number, al.Number)
	pdftest.MustContain(t, before, DevSeller().Name, DevSeller().Address, "賣方 12345675")

	moved := DevSeller()
	moved.Name, moved.TaxID, moved.Address, moved.Phone = "新路由股份有限公司", "04595257", "新北市板橋區縣民大道二段7號", "02-2960-0000"
	svc, err := New(e.store, Config{Seller: moved, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	after, afterXML, afterAl := renderAll(t, svc, inv.Number, al.Number)
	if before != after {
		t.Errorf("proof text changed with the configuration:\n%s\n---\n%s", before, after)
	}
	if !bytes.Equal(beforeXML, afterXML) {
		t.Error("F0401 export changed with the configuration")
	}
	if !bytes.Equal(beforeAl, afterAl) {
		t.Errorf("allowance text changed with the configuration:\n%s\n---\n%s", beforeAl, afterAl)
	}
	// The new configuration is in force: an invoice issued now shows the
	// new seller, so the sameness above is the event's doing.
	e.use("solo", "gpt-4o", taipei(2026, 12, 3, 10, 0), 1, 1, "21")
	e.clock.Set(taipei(2026, 12, 5, 10, 0))
	later, _, err := svc.IssueMonthly(e.ctx, "solo", "2026-12")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := svc.InvoicePDF(&buf, later.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), moved.Name, moved.Address, "賣方 04595257")
	if strings.Contains(after, moved.Name) || strings.Contains(after, moved.Address) {
		t.Errorf("the old invoice shows the new seller:\n%s", after)
	}
}

// An invoice issued before events held the seller falls back to the
// configured seller (docs/invoicing.md).
func TestInvoiceWithoutSellerSnapshotUsesConfiguration(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv := rep.Issued[0]
	inv.Seller = nil
	var buf bytes.Buffer
	if err := e.svc.RenderInvoice(&buf, inv); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), DevSeller().Name)
}

// The service prints a B2C proof in the 5.7 cm format too.
func TestThermalPDFOfAnIssuedInvoice(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b2c := rep.Issued[1]
	var buf bytes.Buffer
	if err := e.svc.ThermalPDF(&buf, b2c.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "電子發票證明聯", twrules.PrintedNumber(b2c.Number), "交易明細", "總計 105")
}
