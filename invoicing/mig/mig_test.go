package mig

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

func seller() Seller {
	return Seller{TaxID: "12345675", Name: "路由自由股份有限公司", Address: "臺北市信義區市府路45號", PersonInCharge: "陳大文"}
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func b2b() domain.InvoiceIssued {
	return domain.InvoiceIssued{
		Number: "AB12345678", Period: "2026-11", Kind: "b2b", BuyerName: "台灣積體電路製造股份有限公司",
		BuyerTaxID: "22099131", RandomCode: "1234",
		Lines: []domain.InvoiceLine{
			{Description: "AI API 呼叫費用", Quantity: d("1"), Unit: "式", UnitPrice: d("8000"), Amount: d("8000")},
			{Description: "模型用量 & <tokens>", Quantity: d("3.5"), Unit: "百萬", UnitPrice: d("1061.7"), Amount: d("3715.95")},
		},
		Sales: 11714, Tax: 586, Total: 12300,
		IssuedAt: time.Date(2026, 11, 30, 17, 30, 5, 0, time.UTC), // 2026-12-01 01:30:05 in Taipei
	}
}

func b2c(carrier, donation string) domain.InvoiceIssued {
	s, t := twrules.SplitInclusive(5500)
	return domain.InvoiceIssued{
		Number: "CD00000042", Kind: "b2c", RandomCode: "0071", Carrier: carrier, DonationCode: donation,
		Lines: []domain.InvoiceLine{{Description: "API 儲值", Quantity: d("1"), UnitPrice: d("5500"), Amount: d("5500")}},
		Sales: s, Tax: t, Total: 5500,
		IssuedAt: time.Date(2026, 11, 5, 6, 0, 0, 0, time.UTC),
	}
}

// rootNS decodes the root element's name and namespace.
func rootNS(t *testing.T, doc []byte) xml.Name {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name
		}
	}
}

func TestF0401B2BRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteF0401(&buf, b2b(), seller()); err != nil {
		t.Fatal(err)
	}
	if n := rootNS(t, buf.Bytes()); n.Local != "Invoice" || n.Space != "urn:GEINV:eInvoiceMessage:F0401:4.1" {
		t.Errorf("root %v", n)
	}
	var got Invoice
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	m := got.Main
	if m.InvoiceNumber != "AB12345678" || m.InvoiceDate != "20261201" || m.InvoiceTime != "01:30:05" {
		t.Errorf("main %+v", m)
	}
	if m.Seller.Identifier != "12345675" || m.Buyer.Identifier != "22099131" || m.Buyer.Name != "台灣積體電路製造股份有限公司" {
		t.Errorf("parties %+v / %+v", m.Seller, m.Buyer)
	}
	if m.InvoiceType != "07" || m.DonateMark != "0" || m.PrintMark != "Y" || m.RandomNumber != "1234" || m.CarrierType != "" {
		t.Errorf("marks %+v", m)
	}
	if len(got.Details) != 2 || got.Details[1].Description != "模型用量 & <tokens>" || got.Details[1].Quantity != "3.5" ||
		got.Details[1].SequenceNumber != "2" || got.Details[0].TaxType != "1" {
		t.Errorf("details %+v", got.Details)
	}
	a := got.Amount
	if a.SalesAmount != "11714" || a.TaxAmount != "586" || a.TotalAmount != "12300" || a.TaxRate != "0.05" || a.TaxType != "1" {
		t.Errorf("amount %+v", a)
	}
	if !strings.Contains(buf.String(), "&amp; &lt;tokens&gt;") {
		t.Error("special characters not escaped")
	}
}

func TestF0401B2C(t *testing.T) {
	for _, c := range []struct {
		carrier, donation, ctype, donate, print, npoban string
	}{
		{"/ABC+123", "", "3J0002", "0", "N", ""},
		{"", "8585", "", "1", "N", "8585"},
		{"", "", "", "0", "Y", ""},
	} {
		msg, err := BuildF0401(b2c(c.carrier, c.donation), seller())
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		write(&buf, msg)
		var got Invoice
		if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		m := got.Main
		if m.Buyer.Identifier != "0000000000" || m.CarrierType != c.ctype || m.CarrierId1 != c.carrier ||
			m.DonateMark != c.donate || m.PrintMark != c.print || m.NPOBAN != c.npoban {
			t.Errorf("%+v: main %+v", c, m)
		}
		if got.Amount.SalesAmount != "5500" || got.Amount.TaxAmount != "0" || got.Amount.TotalAmount != "5500" {
			t.Errorf("B2C amount %+v", got.Amount)
		}
	}
}

func TestF0401Rejects(t *testing.T) {
	cases := map[string]func(*domain.InvoiceIssued){
		"buyer checksum": func(i *domain.InvoiceIssued) { i.BuyerTaxID = "12345678" },
		"totals":         func(i *domain.InvoiceIssued) { i.Tax = 1 },
		"number":         func(i *domain.InvoiceIssued) { i.Number = "A12" },
		"random":         func(i *domain.InvoiceIssued) { i.RandomCode = "" },
		"unit too long":  func(i *domain.InvoiceIssued) { i.Lines[0].Unit = "百萬tokens" },
		"no lines":       func(i *domain.InvoiceIssued) { i.Lines = nil },
		"wrong period":   func(i *domain.InvoiceIssued) { i.Period = "2027-01" },
	}
	for name, mut := range cases {
		inv := b2b()
		mut(&inv)
		if _, err := BuildF0401(inv, seller()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := BuildF0401(b2c("bad", ""), seller()); err == nil {
		t.Error("bad carrier accepted")
	}
	s := seller()
	s.TaxID = "00000001"
	if _, err := BuildF0401(b2b(), s); err == nil {
		t.Error("bad seller accepted")
	}
}

func TestF0501RoundTrip(t *testing.T) {
	inv := b2b()
	v := Void{Invoice: inv, Event: domain.InvoiceVoided{Number: inv.Number, Reason: "統編誤植"}, At: inv.IssuedAt.Add(48 * time.Hour)}
	var buf bytes.Buffer
	if err := WriteF0501(&buf, v, seller()); err != nil {
		t.Fatal(err)
	}
	if n := rootNS(t, buf.Bytes()); n.Local != "CancelInvoice" || n.Space != NamespaceF0501 || !strings.HasSuffix(n.Space, ":F0501:4.1") {
		t.Errorf("root %v", n)
	}
	var got CancelInvoice
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.CancelInvoiceNumber != "AB12345678" || got.InvoiceDate != "20261201" || got.BuyerId != "22099131" ||
		got.SellerId != "12345675" || got.CancelDate != "20261203" || got.CancelTime != "01:30:05" || got.CancelReason != "統編誤植" {
		t.Errorf("F0501 %+v", got)
	}
	// A reason over the 20 characters of CancelReason (one stored before
	// voids were refused one) goes out cut to 20 characters, not bytes.
	v.Event.Reason = strings.Repeat("長", 20) + "了"
	if msg, err := BuildF0501(v, seller()); err != nil || msg.CancelReason != strings.Repeat("長", 20) {
		t.Errorf("21-character reason: %+v %v", msg, err)
	}
	v.Event.Reason = strings.Repeat("長", 20)
	if msg, err := BuildF0501(v, seller()); err != nil || msg.CancelReason != v.Event.Reason {
		t.Errorf("20-character reason: %+v %v", msg, err)
	}
	v.Event.Reason, v.Event.Number = "x", "ZZ00000000"
	if err := WriteF0501(io.Discard, v, seller()); err == nil {
		t.Error("void of another invoice accepted")
	}
}

func TestG0401RoundTrip(t *testing.T) {
	inv := b2b()
	a := AllowanceDoc{Invoice: inv, Event: domain.AllowanceIssued{Number: "AL2026120001", InvoiceNumber: inv.Number,
		Sales: 1000, Tax: 50, Reason: "服務中斷補償"}, At: time.Date(2026, 12, 10, 2, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	if err := WriteG0401(&buf, a, seller()); err != nil {
		t.Fatal(err)
	}
	if n := rootNS(t, buf.Bytes()); n.Local != "Allowance" || n.Space != "urn:GEINV:eInvoiceMessage:G0401:4.1" {
		t.Errorf("root %v", n)
	}
	var got Allowance
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Main.AllowanceNumber != "AL2026120001" || got.Main.AllowanceDate != "20261210" || got.Main.AllowanceType != "2" ||
		got.Main.Buyer.Identifier != "22099131" || got.Main.Seller.Identifier != "12345675" {
		t.Errorf("main %+v", got.Main)
	}
	// One item per original line, with its description and sequence; the
	// allowance is shared in proportion to the lines (8,000 : 3,715.95).
	if len(got.Details) != 2 {
		t.Fatalf("details %+v", got.Details)
	}
	it := got.Details[0]
	if it.OriginalInvoiceNumber != "AB12345678" || it.OriginalInvoiceDate != "20261201" || it.OriginalSequenceNumber != "1" ||
		it.OriginalDescription != "AI API 呼叫費用" || got.Details[1].OriginalDescription != "模型用量 & <tokens>" ||
		got.Details[1].OriginalSequenceNumber != "2" || it.AllowanceSequenceNumber != "1" || got.Details[1].AllowanceSequenceNumber != "2" {
		t.Errorf("items %+v", got.Details)
	}
	sum, tax := decimal.Zero, decimal.Zero
	for _, it := range got.Details {
		sum, tax = sum.Add(d(it.Amount)), tax.Add(d(it.Tax))
		if !d(it.UnitPrice).Mul(d(it.Quantity)).Equal(d(it.Amount)) {
			t.Errorf("item %+v: price × quantity ≠ amount", it)
		}
	}
	if !sum.Equal(d("1000")) || !tax.Equal(d("50")) || got.Details[0].Amount != "682.83" || got.Details[0].Tax != "34" {
		t.Errorf("items sum to %s + tax %s: %+v", sum, tax, got.Details)
	}
	if got.Amount.TaxAmount != "50" || got.Amount.TotalAmount != "1000" {
		t.Errorf("amount %+v", got.Amount)
	}
	a.Event.Sales = 13000
	if err := WriteG0401(io.Discard, a, seller()); err == nil {
		t.Error("allowance above the invoice accepted")
	}
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func TestExports(t *testing.T) {
	invs := []domain.InvoiceIssued{b2b(), b2c("/ABC+123", "")}
	var a, b bytes.Buffer
	if err := ExportF0401(&a, invs, seller()); err != nil {
		t.Fatal(err)
	}
	if err := ExportF0401(&b, invs, seller()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("export is not deterministic")
	}
	files := unzip(t, a.Bytes())
	if len(files) != 2 {
		t.Fatalf("files %v", len(files))
	}
	for _, inv := range invs {
		var got Invoice
		if err := xml.Unmarshal(files["F0401_"+inv.Number+".xml"], &got); err != nil {
			t.Fatal(err)
		}
		if got.Main.InvoiceNumber != inv.Number || got.Amount.TotalAmount != decimal.NewFromInt(inv.Total).String() {
			t.Errorf("%s: %+v", inv.Number, got.Main)
		}
	}
	// One bad invoice: nothing is written.
	bad := b2b()
	bad.BuyerTaxID = "1"
	var c bytes.Buffer
	if err := ExportF0401(&c, append(invs, bad), seller()); err == nil || c.Len() != 0 {
		t.Errorf("bad batch: err %v, %d bytes written", err, c.Len())
	}

	inv := b2b()
	var v, g bytes.Buffer
	if err := ExportF0501(&v, []Void{{Invoice: inv, Event: domain.InvoiceVoided{Number: inv.Number, Reason: "重開"}, At: inv.IssuedAt}}, seller()); err != nil {
		t.Fatal(err)
	}
	if _, ok := unzip(t, v.Bytes())["F0501_AB12345678.xml"]; !ok {
		t.Error("F0501 file missing")
	}
	if err := ExportG0401(&g, []AllowanceDoc{{Invoice: inv, Event: domain.AllowanceIssued{Number: "AL1", InvoiceNumber: inv.Number, Sales: 10, Tax: 1}, At: inv.IssuedAt}}, seller()); err != nil {
		t.Fatal(err)
	}
	var al Allowance
	if err := xml.Unmarshal(unzip(t, g.Bytes())["G0401_AL1.xml"], &al); err != nil || al.Details[0].OriginalDescription != inv.Lines[0].Description {
		t.Errorf("G0401 in zip: %v %+v", err, al)
	}
}

func TestG0501RoundTrip(t *testing.T) {
	inv := b2b()
	v := AllowanceVoid{Invoice: inv, Allowance: domain.AllowanceIssued{Number: "11512AB123456781", InvoiceNumber: inv.Number, Sales: 1000, Tax: 50},
		IssuedAt: time.Date(2026, 12, 10, 2, 0, 0, 0, time.UTC),
		Event:    domain.AllowanceVoided{Number: "11512AB123456781", InvoiceNumber: inv.Number, Reason: "折讓取消"},
		At:       time.Date(2026, 12, 11, 16, 30, 0, 0, time.UTC)}
	var buf bytes.Buffer
	if err := WriteG0501(&buf, v, seller()); err != nil {
		t.Fatal(err)
	}
	if n := rootNS(t, buf.Bytes()); n.Local != "CancelAllowance" || n.Space != "urn:GEINV:eInvoiceMessage:G0501:4.1" {
		t.Errorf("root %v", n)
	}
	var got CancelAllowance
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.CancelAllowanceNumber != "11512AB123456781" || got.AllowanceDate != "20261210" || got.CancelDate != "20261212" ||
		got.CancelTime != "00:30:00" || got.BuyerId != "22099131" || got.SellerId != "12345675" || got.CancelReason != "折讓取消" {
		t.Errorf("G0501 %+v", got)
	}
	v.Event.Reason = "折讓取消：買受人退回折讓證明單，另行開立正確金額"
	if msg, err := BuildG0501(v, seller()); err != nil || msg.CancelReason != "折讓取消：買受人退回折讓證明單，另行開立" {
		t.Errorf("24-character reason: %+v %v", msg, err)
	}
	v.Event.Reason = ""
	if err := WriteG0501(io.Discard, v, seller()); err == nil {
		t.Error("void without a reason accepted")
	}
}

// A B2C allowance is encoded like its F0401: tax-inclusive amounts, tax 0.
func TestG0401B2CLikeF0401(t *testing.T) {
	inv := b2c("/ABC+-.1", "")
	a := AllowanceDoc{Invoice: inv, Event: domain.AllowanceIssued{Number: "AL2026110002", InvoiceNumber: inv.Number,
		Sales: 1000, Tax: 50, Reason: "退費"}, At: time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC)}
	al, err := BuildG0401(a, seller())
	if err != nil {
		t.Fatal(err)
	}
	f, err := BuildF0401(inv, seller())
	if err != nil {
		t.Fatal(err)
	}
	if f.Amount.TaxAmount != "0" || f.Amount.SalesAmount != "5500" || f.Amount.TotalAmount != "5500" {
		t.Errorf("F0401 B2C amount %+v", f.Amount)
	}
	if len(al.Details) != 1 || al.Details[0].Amount != "1050.00" || al.Details[0].Tax != "0" || al.Details[0].OriginalDescription != "API 儲值" ||
		al.Amount.TaxAmount != "0" || al.Amount.TotalAmount != "1050" {
		t.Errorf("G0401 B2C %+v %+v", al.Details, al.Amount)
	}
}
