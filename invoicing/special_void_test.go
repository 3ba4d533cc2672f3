package invoicing

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/projections"
)

// Past its period's filing deadline an invoice is voided only by the tax
// office (專案作廢). Once it approves, finance records the special void
// with the approval's reference and day: the invoice is then void as a
// normal void leaves it, in the ledger, the reconciliation, the read
// model and replay, its PDF and its F0501.
func TestSpecialVoidRecordsTheTaxOfficesApproval(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acme := rep.Issued[0]

	// The period 2026-11/12 was filed by the end of 15 January 2027.
	e.clock.Set(taipei(2027, 2, 20, 10, 0))
	e.assign("2027-01", "CD", 10000000, 10000999) // for the re-issue
	if _, err := e.svc.Void(e.ctx, acme.Number, "買受人錯誤"); !errors.Is(err, ErrVoidWindowClosed) {
		t.Fatalf("a normal void past the deadline: %v", err)
	}
	clerk := domain.Actor{Kind: domain.ActorStaff, ID: "stf_finance", Role: "finance"}
	approval := domain.SpecialVoid{Approval: "北區國稅審字第1160001234號", ApprovedOn: "2027-02-18"}
	v, err := e.svc.SpecialVoid(domain.WithActor(e.ctx, clerk), acme.Number, "買受人錯誤", approval)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Voided || v.Net() != 0 || v.VoidReason != "買受人錯誤" || v.Special == nil || *v.Special != approval {
		t.Fatalf("special void: voided %v net %d reason %q special %+v", v.Voided, v.Net(), v.VoidReason, v.Special)
	}
	if _, err := e.svc.SpecialVoid(e.ctx, acme.Number, "買受人錯誤", approval); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second special void: %v, want ErrConflict", err)
	}

	// The event names who recorded it and the approval.
	evs, err := e.store.ReadStream(e.ctx, invoiceStream(acme.Period, acme.Number), 0, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("the invoice's stream: %v, %d events", err, len(evs))
	}
	ev, err := domain.Decode(evs[0].Type, evs[0].SchemaVersion, evs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if b := ev.(*domain.InvoiceVoided); b.Actor != clerk || b.Special == nil || *b.Special != approval {
		t.Fatalf("the void's event: %+v", b)
	}

	// Its usage is pending again, as after a normal void, to be re-issued.
	recon, err := e.svc.Reconcile(e.ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recon.Rows {
		if r.AccountID != "acme" {
			continue
		}
		found = true
		if !r.Invoiced.IsZero() || !r.Pending.Equal(r.Used) || r.Reason != ReasonVoided || !strings.Contains(r.Next, "invoices issue --account acme --month 2026-11") || len(r.Voided) != 1 || r.Voided[0] != acme.Number {
			t.Fatalf("acme's month after the special void: %+v", r)
		}
	}
	if !found {
		t.Fatal("no reconciliation row of acme")
	}

	// A fresh reader and the read model's replay give the same.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	got, err := fresh.Invoice(acme.Number)
	if err != nil || !got.Voided || got.Special == nil || *got.Special != approval || got.VoidReason != v.VoidReason {
		t.Fatalf("fresh reader: %+v %v", got, err)
	}
	again, err := fresh.Reconcile(e.ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Totals.Pending.Equal(recon.Totals.Pending) || !again.Totals.Invoiced.Equal(recon.Totals.Invoiced) || again.Totals.Net != recon.Totals.Net {
		t.Fatalf("replayed reconciliation %+v, live %+v", again.Totals, recon.Totals)
	}
	want := map[string]int64{}
	for _, inv := range e.svc.Invoices("", "") {
		want[inv.Month] += inv.Net()
	}
	f, err := projections.Replay(e.ctx, e.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	for m, n := range want {
		if f.InvoiceTotals[m] != n {
			t.Errorf("replay: %s net NT$%d, the ledger's NT$%d", m, f.InvoiceTotals[m], n)
		}
	}
	if want["2026-11"] != rep.Issued[1].Total {
		t.Errorf("the ledger's 2026-11 net NT$%d, want only the live invoice's NT$%d", want["2026-11"], rep.Issued[1].Total)
	}

	// The PDF says it was voided, and on which approval.
	var buf bytes.Buffer
	if err := fresh.InvoicePDF(&buf, acme.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "本發票已作廢", "作廢原因：買受人錯誤",
		"專案作廢核准文號："+approval.Approval, "核准日期 2027-02-18")

	// The outbox files an F0501 that carries the approval.
	dir := t.TempDir()
	if _, err := fresh.Outbox(e.ctx, dir); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(dir, "UpCast/B2SSTORAGE/F0501/SRC/F0501_2026-11_"+acme.Number+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	var msg mig.CancelInvoice
	if err := xml.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.CancelInvoiceNumber != acme.Number || msg.CancelReason != "買受人錯誤" || msg.CancelDate != "20270220" ||
		msg.ReturnTaxDocumentNumber != approval.Approval ||
		!strings.Contains(msg.Remark, approval.Approval) || !strings.Contains(msg.Remark, "2027-02-18") {
		t.Fatalf("F0501 of the special void:\n%s", body)
	}
	// The export writes the same message.
	buf.Reset()
	if err := fresh.Export(&buf, MessageF0501, "2027-01"); err != nil {
		t.Fatal(err)
	}
	files := unzipAll(t, buf.Bytes())
	if x := files["F0501_"+acme.Number+".xml"]; !strings.Contains(x, "<ReturnTaxDocumentNumber>"+approval.Approval+"</ReturnTaxDocumentNumber>") {
		t.Fatalf("the export's F0501:\n%s", x)
	}

	// The month is re-issued as after a normal void, naming the invoice
	// it replaces.
	re, _, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if re.Total != acme.Total || len(re.Replaces) != 1 || re.Replaces[0] != acme.Number {
		t.Fatalf("the re-issue: total %d replaces %v", re.Total, re.Replaces)
	}
	if recon, err = e.svc.Reconcile(e.ctx, "2026-11"); err != nil {
		t.Fatal(err)
	}
	for _, r := range recon.Rows {
		if r.AccountID == "acme" && (!r.Pending.IsZero() || r.Net != acme.Total) {
			t.Fatalf("acme's month after the re-issue: %+v", r)
		}
	}
}

// unzipAll reads every file of an export's zip.
func unzipAll(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(body)
	}
	return out
}

// A special void is only for an invoice past its void window, on an
// approval given as the tax office writes it; anything else is refused
// with nothing recorded.
func TestSpecialVoidRefusals(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acme, solo := rep.Issued[0], rep.Issued[1]
	ok := domain.SpecialVoid{Approval: "北區國稅審字第1160001234號", ApprovedOn: "2027-01-16"}

	// On the last day of the window a normal void is the way.
	e.clock.Set(taipei(2027, 1, 15, 23, 0))
	_, err = e.svc.SpecialVoid(e.ctx, acme.Number, "買受人錯誤", domain.SpecialVoid{Approval: ok.Approval, ApprovedOn: "2027-01-15"})
	var early *SpecialVoidEarlyError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &early) || early.LastDay != "2027-01-15" ||
		!strings.Contains(err.Error(), "can still be voided") {
		t.Fatalf("a special void within the window: %v", err)
	}

	e.clock.Set(taipei(2027, 1, 20, 10, 0))
	long := strings.Repeat("字", MaxSpecialApproval+1)
	for name, c := range map[string]struct {
		reason string
		sv     domain.SpecialVoid
		says   string
	}{
		"no approval":          {"買受人錯誤", domain.SpecialVoid{ApprovedOn: ok.ApprovedOn}, "approval reference"},
		"blank approval":       {"買受人錯誤", domain.SpecialVoid{Approval: "  ", ApprovedOn: ok.ApprovedOn}, "approval reference"},
		"long approval":        {"買受人錯誤", domain.SpecialVoid{Approval: long, ApprovedOn: ok.ApprovedOn}, "at most 60"},
		"control character":    {"買受人錯誤", domain.SpecialVoid{Approval: "審字\x07第1號", ApprovedOn: ok.ApprovedOn}, "control character"},
		"line break":           {"買受人錯誤", domain.SpecialVoid{Approval: "審字\n第1號", ApprovedOn: ok.ApprovedOn}, "control character"},
		"unprintable":          {"買受人錯誤", domain.SpecialVoid{Approval: "審字😀第1號", ApprovedOn: ok.ApprovedOn}, "U+1F600"},
		"no day":               {"買受人錯誤", domain.SpecialVoid{Approval: ok.Approval}, "YYYY-MM-DD"},
		"bad day":              {"買受人錯誤", domain.SpecialVoid{Approval: ok.Approval, ApprovedOn: "2027-02-30"}, "YYYY-MM-DD"},
		"day in the future":    {"買受人錯誤", domain.SpecialVoid{Approval: ok.Approval, ApprovedOn: "2027-01-21"}, "after today"},
		"day before the close": {"買受人錯誤", domain.SpecialVoid{Approval: ok.Approval, ApprovedOn: "2027-01-15"}, "not after"},
		"no reason":            {"", ok, "reason"},
		"long reason":          {strings.Repeat("因", 21), ok, "at most 20"},
	} {
		_, err := e.svc.SpecialVoid(e.ctx, acme.Number, c.reason, c.sv)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", name, err, c.says)
		}
		if len(err.Error()) > 400 {
			t.Errorf("%s: the refusal repeats the input whole: %d bytes", name, len(err.Error()))
		}
	}
	// An invoice with a live allowance: the allowance is voided first.
	if _, err := e.svc.IssueAllowance(e.ctx, solo.Number, 10, "補償"); err != nil {
		t.Fatal(err)
	}
	var live *LiveAllowancesError
	if _, err := e.svc.SpecialVoid(e.ctx, solo.Number, "買受人錯誤", ok); !errors.As(err, &live) {
		t.Fatalf("a special void of an invoice with an allowance: %v", err)
	}
	evs, err := e.store.ReadAll(e.ctx, eventstore.Start, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Type == domain.TypeInvoiceVoided {
			t.Fatalf("a refused special void recorded %s", ev.Data)
		}
	}
	if got, _ := e.svc.Invoice(acme.Number); got.Voided {
		t.Fatal("a refused special void voided the invoice")
	}
}

// A B2C invoice's special void prints its approval on the 5.7 cm proof too.
func TestSpecialVoidPrintsOnTheThermalProof(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	solo := rep.Issued[1]
	e.clock.Set(taipei(2027, 2, 20, 10, 0))
	approval := domain.SpecialVoid{Approval: "北區國稅審字第1160005678號", ApprovedOn: "2027-02-19"}
	if _, err := e.svc.SpecialVoid(e.ctx, solo.Number, "金額錯誤", approval); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.svc.ThermalPDF(&buf, solo.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "本發票已作廢", "作廢原因：金額錯誤", approval.Approval, "2027-02-19")
}
