package invoicing

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// Customers' carriers and donation codes reach their B2C invoices: F0401
// carries them per MIG 4.1 and a proof is printed only without them.
func TestCarrierAndDonationOnB2CInvoices(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	for _, a := range []struct{ id, taxID, carrier, donation string }{
		{"phone", "", "/abc+-.1", ""},
		{"cert", "", "AB12345678901234", ""},
		{"give", "", "", "168001"},
		{"paper", "", "", ""},
		{"firm", "22099131", "/ABC1234", ""}, // B2B: no carrier on the invoice
	} {
		e.open(a.id, "公司"+a.id, a.taxID, domain.PlanBusiness)
		if a.carrier != "" || a.donation != "" {
			if err := e.cmd.SetInvoiceCarrier(e.ctx, domain.InvoiceCarrierSet{AccountID: a.id, Carrier: a.carrier, DonationCode: a.donation}); err != nil {
				t.Fatal(err)
			}
		}
		e.use(a.id, "gpt-4o", taipei(2026, 11, 3, 10, 0), 1, 1, "105")
	}
	// Refused at the door, naming the format; nothing appended.
	for _, bad := range []domain.InvoiceCarrierSet{
		{AccountID: "paper", Carrier: "/AB_1234"}, {AccountID: "paper", Carrier: "A1234567890123456"},
		{AccountID: "paper", DonationCode: "12"}, {AccountID: "paper", Carrier: "/ABC1234", DonationCode: "168"},
		{AccountID: "paper", Carrier: "/ABC123"}, {AccountID: "paper", Carrier: "/ABC12345"}, {AccountID: "paper", Carrier: "ABC12345"},
		{AccountID: "paper", Carrier: "A112345678901234"}, {AccountID: "paper", Carrier: "AB1234567890123X"},
		{AccountID: "paper", DonationCode: "12345678"}, {AccountID: "paper", DonationCode: "12a4"},
	} {
		if err := e.cmd.SetInvoiceCarrier(e.ctx, bad); !errors.Is(err, commands.ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byAcct := map[string]Invoice{}
	for _, inv := range rep.Issued {
		byAcct[inv.AccountID] = inv
	}
	want := map[string]struct{ ctype, id1, print, donate, npoban string }{
		"phone": {"3J0002", "/ABC+-.1", "N", "0", ""},
		"cert":  {"CQ0001", "AB12345678901234", "N", "0", ""},
		"give":  {"", "", "N", "1", "168001"},
		"paper": {"", "", "Y", "0", ""},
		"firm":  {"", "", "Y", "0", ""},
	}
	for acct, w := range want {
		inv, ok := byAcct[acct]
		if !ok {
			t.Fatalf("no invoice for %s", acct)
		}
		var buf bytes.Buffer
		if err := mig.WriteF0401(&buf, inv.InvoiceIssued, e.svc.seller.MIG()); err != nil {
			t.Fatal(err)
		}
		var x mig.Invoice
		if err := xml.Unmarshal(buf.Bytes(), &x); err != nil {
			t.Fatal(err)
		}
		m := x.Main
		if m.CarrierType != w.ctype || m.CarrierId1 != w.id1 || m.CarrierId2 != w.id1 || m.PrintMark != w.print ||
			m.DonateMark != w.donate || m.NPOBAN != w.npoban {
			t.Errorf("%s: F0401 main %+v, want %+v", acct, m, w)
		}
		// A proof (證明聯, with barcodes) only when printed; otherwise the
		// PDF is a notice without barcodes that cannot claim a prize.
		buf.Reset()
		if err := e.svc.InvoicePDF(&buf, inv.Number); err != nil {
			t.Fatal(err)
		}
		text := pdftest.Text(t, buf.Bytes())
		isProof := strings.Contains(text, "電子發票證明聯")
		if isProof != (w.print == "Y") {
			t.Errorf("%s: proof printed %v, print mark %s:\n%s", acct, isProof, w.print, text)
		}
		if w.print == "N" && !strings.Contains(text, "不列印證明聯") {
			t.Errorf("%s: the notice does not say why no proof is printed:\n%s", acct, text)
		}
	}
}
