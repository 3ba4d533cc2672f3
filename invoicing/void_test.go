package invoicing

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"

	"github.com/routefree/routefree/eventstore/sqlite"
)

func TestVoidWindowAndAllowance(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acme, solo := rep.Issued[0], rep.Issued[1]

	// Period 2026-11/12 files by 15 January 2027: a void on the 15th is in time.
	e.clock.Set(taipei(2027, 1, 15, 23, 0))
	if _, err := e.svc.Void(e.ctx, solo.Number, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("void without a reason: %v", err)
	}
	v, err := e.svc.Void(e.ctx, solo.Number, "買受人資料誤植")
	if err != nil {
		t.Fatal(err)
	}
	if !v.Voided || v.VoidReason != "買受人資料誤植" || v.Net() != 0 {
		t.Fatalf("voided invoice %+v", v)
	}
	if _, err := e.svc.Void(e.ctx, solo.Number, "again"); !errors.Is(err, ErrConflict) {
		t.Fatalf("second void: %v, want ErrConflict", err)
	}
	var buf bytes.Buffer
	if err := e.svc.InvoicePDF(&buf, solo.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "本發票已作廢", "作廢日期 2027-01-15 23:00:00", "作廢原因：買受人資料誤植")

	// From 16 January the window is closed: refuse, and point to an allowance.
	e.clock.Set(taipei(2027, 1, 16, 0, 0))
	_, err = e.svc.Void(e.ctx, acme.Number, "服務取消")
	var werr *VoidWindowError
	if !errors.Is(err, ErrVoidWindowClosed) || !errors.As(err, &werr) || werr.Deadline != "2027-01-16T00:00:00+08:00" {
		t.Fatalf("late void: %v", err)
	}
	a, err := e.svc.IssueAllowance(e.ctx, acme.Number, 1050, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	if a.Number != "11512AB123450001" || a.Sales != 1000 || a.Tax != 50 || a.InvoiceNumber != acme.Number {
		t.Fatalf("allowance %+v", a.AllowanceIssued)
	}
	if _, err := e.svc.IssueAllowance(e.ctx, acme.Number, 0, "nothing"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("allowance of NT$0: %v", err)
	}
	if _, err := e.svc.IssueAllowance(e.ctx, acme.Number, acme.Total, "too much"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("allowance over the invoice's remaining total: %v", err)
	}
	if _, err := e.svc.IssueAllowance(e.ctx, solo.Number, 10, "voided"); !errors.Is(err, ErrConflict) {
		t.Fatalf("allowance on a voided invoice: %v", err)
	}
	buf.Reset()
	if err := e.svc.AllowancePDF(&buf, a.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "折讓證明單", "11512AB123450001", "AB-12345000", "服務中斷補償",
		"1,000", "50", "1,050", "壹仟零伍拾元整", "22099131")

	// A fresh reader folds the same state from the store.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := fresh.Invoice(acme.Number)
	if len(got.Allowances) != 1 || got.Net() != acme.Total-1050 {
		t.Fatalf("fresh reader: %+v", got)
	}
	if got, _ := fresh.Invoice(solo.Number); !got.Voided {
		t.Fatal("fresh reader misses the void")
	}

	// The MIG exports: the void and the allowance were made in period
	// 2027-01/02, though their invoices are of 2026-11/12.
	for _, c := range []struct {
		message, period string
		files           map[string][]string // file → what its XML must hold
	}{
		{MessageF0501, "2027-01", map[string][]string{"F0501_" + solo.Number + ".xml": {solo.Number, "買受人資料誤植", "20270115"}}},
		{MessageG0401, "2027-01", map[string][]string{"G0401_" + a.Number + ".xml": {a.Number, acme.Number, "1000", "50"}}},
		{MessageF0501, "2026-11", nil},
		{MessageG0401, "2026-11", nil},
	} {
		buf.Reset()
		if err := fresh.Export(&buf, c.message, c.period); err != nil {
			t.Fatalf("%s %s: %v", c.message, c.period, err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil || len(zr.File) != len(c.files) {
			t.Fatalf("%s %s: %d files (%v), want %d", c.message, c.period, len(zr.File), err, len(c.files))
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(rc)
			rc.Close()
			want, ok := c.files[f.Name]
			if !ok {
				t.Fatalf("%s %s: unexpected file %s", c.message, c.period, f.Name)
			}
			for _, w := range want {
				if !bytes.Contains(body, []byte(w)) {
					t.Fatalf("%s lacks %q:\n%s", f.Name, w, body)
				}
			}
		}
	}
	if err := fresh.Export(&buf, "F9999", "2027-01"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown message: %v, want ErrInvalid", err)
	}

	// Allowances together may reach the invoice's total, not one dollar
	// more, in at most nine live allowances.
	// The tax follows the cumulative amount: 1,050 + 525 = 1,575 carries
	// NT$75 of tax, of which the first allowance took 50.
	second, err := e.svc.IssueAllowance(e.ctx, acme.Number, 525, "half again")
	if err != nil || second.Sales != 500 || second.Tax != 25 {
		t.Fatalf("second allowance: %+v %v", second.AllowanceIssued, err)
	}
	for i := 0; i < 6; i++ {
		if _, err := e.svc.IssueAllowance(e.ctx, acme.Number, 1, "one dollar"); err != nil {
			t.Fatalf("allowance %d: %v", i+3, err)
		}
	}
	remaining := acme.Total - 1050 - 525 - 6
	if _, err := e.svc.IssueAllowance(e.ctx, acme.Number, remaining+1, "one dollar too much"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("allowance of NT$%d with NT$%d remaining: %v", remaining+1, remaining, err)
	}
	last, err := e.svc.IssueAllowance(e.ctx, acme.Number, remaining, "the rest")
	if err != nil {
		t.Fatalf("allowance of exactly the remaining NT$%d: %v", remaining, err)
	}
	got, _ = e.svc.Invoice(acme.Number)
	if got.Net() != 0 || last.Sales+last.Tax != remaining {
		t.Fatalf("after allowing the rest: net %d, allowance %+v", got.Net(), last.AllowanceIssued)
	}
	// Allowed in full, the allowances' sales and tax are the invoice's.
	var sales, tax int64
	for _, a := range got.Allowances {
		sales, tax = sales+a.Sales, tax+a.Tax
	}
	if sales != acme.Sales || tax != acme.Tax {
		t.Fatalf("allowances total sales %d tax %d, invoice %d + %d", sales, tax, acme.Sales, acme.Tax)
	}
	if _, err := e.svc.IssueAllowance(e.ctx, acme.Number, 1, "a tenth"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a tenth allowance: %v", err)
	}
}

// Replay: the hash of every invoice's PDF, recorded at the close, is
// regenerated from a fresh read of the store.
func TestReplayContentHash(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{PDFDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string][]byte{}
	for _, inv := range rep.Issued {
		h, err := ContentHash(inv.InvoiceIssued, DevSeller())
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := e.svc.RenderInvoice(&buf, inv); err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(buf.Bytes()); !bytes.Equal(sum[:], h) {
			t.Fatalf("%s: ContentHash is not the PDF's SHA-256", inv.Number)
		}
		recorded[inv.Number] = h
	}
	// Rebuild from history: the store reopened from its file, a new service,
	// every event decoded afresh.
	e.store.Close()
	reopened, err := sqlite.Open(e.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	fresh, err := New(reopened, Config{Seller: DevSeller(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	invs := fresh.PeriodInvoices("2026-11")
	if err := fresh.LoadDocuments(e.ctx, invs); err != nil {
		t.Fatal(err)
	}
	if len(invs) != len(recorded) {
		t.Fatalf("replay found %d invoices, want %d", len(invs), len(recorded))
	}
	for _, inv := range invs {
		h, err := ContentHash(inv.InvoiceIssued, DevSeller())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(h, recorded[inv.Number]) {
			t.Errorf("%s: replayed hash %x, recorded %x", inv.Number, h, recorded[inv.Number])
		}
	}
	// Another seller identity in the event changes the document, so the
	// hash pins it; the configured seller does not.
	other := DevSeller()
	other.Address = "臺北市大安區"
	if h, _ := ContentHash(invs[0].InvoiceIssued, other); !bytes.Equal(h, recorded[invs[0].Number]) {
		t.Error("hash follows today's configuration, not the event")
	}
	changed := invs[0].InvoiceIssued
	changed.Seller = other.Snapshot()
	if h, _ := ContentHash(changed, DevSeller()); bytes.Equal(h, recorded[invs[0].Number]) {
		t.Error("hash ignores the seller")
	}
}
