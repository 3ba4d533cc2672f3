package main

import (
	"context"
	"fmt"
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

// A close killed after it issued its invoices and before it wrote their
// PDFs (kill -9, a lost machine: the invoices are events, the PDFs files
// written after them) leaves --pdf-dir without them. Run again, the close
// issues nothing twice and writes the PDFs that the directory lacks, each
// whole, and says how many.
func TestInvoicesCloseRerunWritesThePDFsOfAKilledClose(t *testing.T) {
	pdftest.Tool(t, "pdftotext")
	h := newLedgerHistory(t)
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	month := last.Format("2006-01")
	const accounts = 5
	for i := range accounts {
		id := fmt.Sprintf("acct%d", i)
		if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: id, Organisation: fmt.Sprintf("測試%d股份有限公司", i),
			TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
			t.Fatal(err)
		}
		h.use(id, last.Add(48*time.Hour), "300")
	}
	// The killed close: every invoice issued, no PDF written but one, and
	// that one cut off halfway, as a kill during its write leaves it.
	rep, err := h.svc.Close(context.Background(), month, invoicing.CloseOptions{})
	if err != nil || len(rep.Issued) != accounts {
		t.Fatalf("first close: %d issued, %v", len(rep.Issued), err)
	}
	pdfDir := filepath.Join(t.TempDir(), "pdf")
	if err := os.MkdirAll(pdfDir, 0o750); err != nil {
		t.Fatal(err)
	}
	var whole strings.Builder
	if err := h.svc.RenderInvoice(&whole, rep.Issued[0]); err != nil {
		t.Fatal(err)
	}
	half := whole.String()[:whole.Len()/2]
	if err := os.WriteFile(filepath.Join(pdfDir, rep.Issued[0].Period+"-"+rep.Issued[0].Number+".pdf"), []byte(half), 0o640); err != nil {
		t.Fatal(err)
	}

	out := mustCLI(t, "invoices", "close", "--month", month, "--data-dir", h.dir, "--pdf-dir", pdfDir)
	if !strings.Contains(out, "0 issued, 5 already invoiced") || !strings.Contains(out, "5 PDFs") {
		t.Fatalf("the close run again printed:\n%s", out)
	}
	for _, inv := range h.svc.Invoices(month, "") {
		path := filepath.Join(pdfDir, inv.Period+"-"+inv.Number+".pdf")
		text, err := exec.Command("pdftotext", "-layout", path, "-").Output()
		if err != nil {
			t.Fatalf("PDF of %s (%s): %v", inv.Number, inv.AccountID, err)
		}
		if !strings.Contains(string(text), twrules.PrintedNumber(inv.Number)) {
			t.Fatalf("PDF of %s does not show its number:\n%s", inv.Number, text)
		}
	}
	// Once more: every PDF is there, nothing is written or issued.
	out = mustCLI(t, "invoices", "close", "--month", month, "--data-dir", h.dir, "--pdf-dir", pdfDir)
	if !strings.Contains(out, "0 issued, 5 already invoiced") || !strings.Contains(out, " 0 PDFs") {
		t.Fatalf("the third close printed:\n%s", out)
	}
	if n := len(h.svc.Invoices(month, "")); n != accounts {
		t.Fatalf("%d invoices of %s after three closes, want %d", n, month, accounts)
	}
}
