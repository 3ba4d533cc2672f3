package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// A close into --pdf-dir that re-issues a voided invoice marks the voided
// one's proof there 作廢: else the folder holds two proofs of the month that
// read as live, and bills it twice. A voided invoice whose proof the folder
// never held gets none, and every other PDF there is left as it is.
func TestCloseMarksAVoidedInvoicesPDFVoidBesideItsReissue(t *testing.T) {
	pdftest.Tool(t, "pdftotext")
	h, month, dir, pdfs := closeIntoPDFDir(t)
	period := twrules.PeriodOf(h.now).String()
	pathOf := func(number string) string { return filepath.Join(pdfs, period+"-"+number+".pdf") }
	text := func(number string) string {
		t.Helper()
		b, err := os.ReadFile(pathOf(number))
		if err != nil {
			t.Fatal(err)
		}
		return pdftest.Text(t, b)
	}

	out := mustCLI(t, "invoices", "close", "--month", month, "--pdf-dir", pdfs, dir)
	solo, acme := issuedTo(t, out, "solo"), issuedTo(t, out, "acme")
	if strings.Contains(text(solo), "本發票已作廢") {
		t.Fatalf("solo's proof reads voided before its void")
	}
	acmeBefore, err := os.ReadFile(pathOf(acme))
	if err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "invoices", "void", "--number", solo, "--reason", "買受人資料誤植", dir)
	out = mustCLI(t, "invoices", "close", "--month", month, "--pdf-dir", pdfs, dir)
	reissue := issuedTo(t, out, "solo")
	if strings.Contains(text(reissue), "本發票已作廢") {
		t.Fatalf("the re-issue's proof reads voided")
	}
	pdftest.MustContain(t, text(solo), "本發票已作廢", "買受人資料誤植")
	if !strings.Contains(out, "2 PDFs") {
		t.Errorf("the close does not count the voided invoice's PDF it wrote again:\n%s", out)
	}
	if now, err := os.ReadFile(pathOf(acme)); err != nil || string(now) != string(acmeBefore) {
		t.Errorf("acme's PDF was written again (%v)", err)
	}

	// Closed again, nothing is written: the voided proof is marked already.
	out = mustCLI(t, "invoices", "close", "--month", month, "--pdf-dir", pdfs, dir)
	if !strings.Contains(out, " 0 PDFs") {
		t.Errorf("the third close wrote PDFs again:\n%s", out)
	}
	// A voided invoice whose proof the folder never held gets none.
	other := filepath.Join(t.TempDir(), "other")
	mustCLI(t, "invoices", "close", "--month", month, "--pdf-dir", other, dir)
	if _, err := os.Stat(filepath.Join(other, period+"-"+solo+".pdf")); !os.IsNotExist(err) {
		t.Errorf("a new folder got the voided invoice's proof (%v)", err)
	}
}
