package invoicing

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
)

// Several allowances of one invoice never take more of a line, in their
// G0401 items, than the line bills: each takes its share of what the
// allowances live when it was issued left of each line. An invoice allowed
// in full has each line allowed in full, whatever allowance was voided on
// the way. Shared out on the lines' amounts alone, two NT$1 allowances of
// a NT$2 invoice of lines 1.71 and 0.29 took 0.15 of the 0.29 line each:
// 0.30 of it, and 1.70 of the other.
//
// The invoices are of September–October, allowed once that period is
// filed (by Monday 16 November, the 15th being a Sunday), when the B2C
// one takes allowances too.
func TestAllowanceItemsNeverExceedTheirLines(t *testing.T) {
	e := newEnv(t, taipei(2026, 10, 10, 9, 0))
	e.assign("2026-09", "AB", 100, 199)
	var invs []Invoice
	for _, c := range []struct{ acct, taxID string }{{"solo", ""}, {"firm", "04595257"}} {
		e.open(c.acct, "王小明工作室", c.taxID, domain.PlanEnterprise)
		e.use(c.acct, "claude-sonnet", taipei(2026, 10, 3, 10, 0), 10, 10, "1.71")
		e.use(c.acct, "gpt-4o", taipei(2026, 10, 3, 11, 0), 10, 10, "0.29")
		inv, _, err := e.svc.IssueMonthly(e.ctx, c.acct, "2026-10")
		if err != nil || inv.Total != 2 {
			t.Fatalf("invoice %+v %v", inv.InvoiceIssued, err)
		}
		invs = append(invs, whole(t, e.svc, inv))
	}
	e.clock.Set(taipei(2026, 11, 17, 9, 0))
	for _, inv := range invs {
		// One allowance voided on the way, then the invoice allowed in full.
		a0, err := e.svc.IssueAllowance(e.ctx, inv.Number, 1, "服務中斷")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Set(e.clock.Now().Add(60e9))
		if _, err := e.svc.VoidAllowance(e.ctx, a0.Number, "折讓取消"); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			e.clock.Set(e.clock.Now().Add(60e9))
			if _, err := e.svc.IssueAllowance(e.ctx, inv.Number, 1, "服務中斷"); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := e.svc.Export(&buf, MessageG0401, "2026-11"); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	voided := map[string]bool{}
	for _, inv := range e.svc.Invoices("", "") {
		for _, a := range inv.Allowances {
			voided[a.Number] = a.Voided
		}
	}
	// What the live allowances take of each line of each invoice.
	took := map[string]map[string]decimal.Decimal{}
	files := 0
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		var m mig.Allowance
		if err := xml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		files++
		if voided[m.Main.AllowanceNumber] {
			continue
		}
		for _, it := range m.Details {
			if took[it.OriginalInvoiceNumber] == nil {
				took[it.OriginalInvoiceNumber] = map[string]decimal.Decimal{}
			}
			took[it.OriginalInvoiceNumber][it.OriginalSequenceNumber] = took[it.OriginalInvoiceNumber][it.OriginalSequenceNumber].Add(dec(it.Amount))
		}
	}
	if files != 6 {
		t.Fatalf("%d G0401 documents, want 6", files)
	}
	for _, inv := range e.svc.Invoices("", "") {
		inv = whole(t, e.svc, inv)
		if inv.Net() != 0 {
			t.Fatalf("invoice %s still bills NT$%d", inv.Number, inv.Net())
		}
		for i, l := range inv.Lines {
			seq := decimal.NewFromInt(int64(i + 1)).String()
			if got := took[inv.Number][seq]; !got.Equal(l.Amount) {
				t.Errorf("%s (%s) line %s of NT$%s: its live allowances' G0401 items take NT$%s", inv.Number, inv.Kind, seq, l.Amount.StringFixed(2), got.StringFixed(2))
			}
		}
	}
}
