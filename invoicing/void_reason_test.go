package invoicing

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// Twenty characters of CJK (60 bytes in UTF-8), and one more.
const (
	reason20 = "買受人統一編號誤植須重新開立正確發票一張"
	reason21 = reason20 + "。"
)

// A void's reason goes into MIG's CancelReason, at most 20 characters
// (characters, not bytes): a longer one is refused before anything is
// recorded, with the limit in the message.
func TestVoidReasonLongerThanMIGAllowsIsRefused(t *testing.T) {
	if n := len([]rune(reason20)); n != 20 {
		t.Fatalf("reason20 has %d characters", n)
	}
	e, _, acme, solo := raceEnv(t)
	a, err := e.svc.IssueAllowance(e.ctx, acme.Number, 100, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	for name, void := range map[string]func(reason string) error{
		"invoice": func(r string) error { _, err := e.svc.Void(e.ctx, solo.Number, r); return err },
		"allowance": func(r string) error {
			_, err := e.svc.VoidAllowance(e.ctx, a.Number, r)
			return err
		},
	} {
		err := void(reason21)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "20 characters") || !strings.Contains(err.Error(), "21") {
			t.Fatalf("%s void with 21 characters: %v", name, err)
		}
		if err := void(strings.Repeat("x", 21)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s void with 21 ASCII characters: %v", name, err)
		}
		if err := void("  " + reason20 + "\n"); err != nil {
			t.Fatalf("%s void with 20 characters: %v", name, err)
		}
	}
	// The refusals recorded nothing: one void each, with the accepted reason.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if inv, _ := fresh.Invoice(solo.Number); !inv.Voided || inv.VoidReason != reason20 {
		t.Fatalf("voided invoice %+v", inv)
	}
	if inv, _ := fresh.Invoice(acme.Number); !inv.Allowances[0].Voided || inv.Allowances[0].VoidReason != reason20 {
		t.Fatalf("voided allowance %+v", inv.Allowances[0])
	}
}

// appendRaw stores an event on an invoice's stream as an older release
// could have, without today's checks.
func (e *env) appendRaw(inv Invoice, name string, at time.Time, ev domain.Event) {
	e.t.Helper()
	d, err := encode(e.ctx, domain.EventID("test", name), at, ev)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, invoiceStream(inv.Period, inv.Number), eventstore.Any(), d); err != nil {
		e.t.Fatal(err)
	}
}

// Voids already stored with a reason over MIG's limit (history cannot be
// edited) still go out: their F0501 and G0501 carry the reason's first 20
// characters, the period exports, and the Turnkey outbox writes every
// document.
func TestStoredOverlongVoidReasonStillFiles(t *testing.T) {
	e, _, acme, solo := raceEnv(t)
	a, err := e.svc.IssueAllowance(e.ctx, acme.Number, 100, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	long := reason20 + "，並通知買受人"
	at := taipei(2026, 12, 2, 10, 0)
	e.appendRaw(solo, "void", at, &domain.InvoiceVoided{Number: solo.Number, Reason: long})
	e.appendRaw(acme, "allowance void", at, &domain.AllowanceVoided{Number: a.Number, InvoiceNumber: acme.Number, Reason: long})
	svc := e.newService()
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ message, file string }{
		{MessageF0501, "F0501_" + solo.Number + ".xml"},
		{MessageG0501, "G0501_" + a.Number + ".xml"},
	} {
		var buf bytes.Buffer
		if err := svc.Export(&buf, c.message, "2026-11"); err != nil {
			t.Fatalf("%s export: %v", c.message, err)
		}
		body := zipFile(t, buf.Bytes(), c.file)
		if !strings.Contains(body, "<CancelReason>"+reason20+"</CancelReason>") {
			t.Fatalf("%s lacks the reason cut to 20 characters:\n%s", c.file, body)
		}
	}

	root := t.TempDir()
	rep, err := svc.Outbox(e.ctx, root)
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	if len(rep.Written) != 5 { // F0401 ×2, F0501, G0401, G0501
		t.Fatalf("outbox wrote %v, want 5 documents", rep.Written)
	}
	b, err := os.ReadFile(filepath.Join(TurnkeyDir(root, MessageG0501, "SRC"), "G0501_2026-11_"+a.Number+".xml"))
	if err != nil || !strings.Contains(string(b), "<CancelReason>"+reason20+"</CancelReason>") {
		t.Fatalf("G0501 in the outbox: %v\n%s", err, b)
	}
	// The documents keep the whole reason.
	var doc bytes.Buffer
	if err := svc.InvoicePDF(&doc, solo.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, doc.Bytes()), "作廢原因："+long)
}

func zipFile(t *testing.T, archive []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			return string(b)
		}
	}
	t.Fatalf("archive lacks %s", name)
	return ""
}
