package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// The PDF cache under the data directory is only a cache: a directory that
// cannot be written (a full disk, a read-only volume, a PostgreSQL
// deployment whose local directory is not mounted) still gives the
// invoice's PDF, rendered from its event, and says why it was not kept.
func TestInvoicePDFWithoutAWritableCache(t *testing.T) {
	pdftest.Tool(t, "pdftotext")
	h := newLedgerHistory(t)
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司",
		TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	h.use("acme", last.Add(48*time.Hour), "300")
	rep, err := h.svc.Close(context.Background(), last.Format("2006-01"), invoicing.CloseOptions{})
	if err != nil || len(rep.Issued) != 1 {
		t.Fatalf("close: %d issued, %v", len(rep.Issued), err)
	}
	inv := rep.Issued[0]
	// Where the cache's directory would be, something that is no directory:
	// as root (tests in containers) a mode would not stop a write.
	if err := os.WriteFile(filepath.Join(h.dir, "documents"), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "invoice.pdf")
	code, stdout, stderr := cli(t, "invoices", "pdf", "--number", inv.Number, "--out", out, "--data-dir", h.dir)
	if code != 0 {
		t.Fatalf("invoices pdf without a writable cache: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "not kept in the cache") || !strings.Contains(stderr, "documents") {
		t.Fatalf("invoices pdf did not say why the PDF was not kept:\n%s", stderr)
	}
	text, err := exec.Command("pdftotext", "-layout", out, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if !strings.Contains(string(text), twrules.PrintedNumber(inv.Number)) {
		t.Fatalf("the PDF does not show its number %s:\n%s", inv.Number, text)
	}
}
