package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// A close's --pdf-dir keeps the PDF it finds whole, as the document cache
// keeps a cached proof; and as the cache renders again a re-issue's proof
// kept from before it printed the amount its void took off (減收 NT$…),
// so does a close into --pdf-dir. Any other PDF there is left as it is.
func TestCloseRewritesAReissuesPDFFromBeforeItsAmountOff(t *testing.T) {
	pdftest.Tool(t, "pdftotext")
	h, month, dir, pdfs := closeIntoPDFDir(t)
	out := mustCLI(t, "invoices", "close", "--month", month, "--pdf-dir", pdfs, dir)
	solo, acme := issuedTo(t, out, "solo"), issuedTo(t, out, "acme")
	mustCLI(t, "invoices", "void", "--number", solo, "--less", "300", "--reason", "折讓改作廢重開", dir)
	reissue := issuedTo(t, mustCLI(t, "invoices", "close", "--month", month, "--pdf-dir", pdfs, dir), "solo")
	period := twrules.PeriodOf(h.now).String()
	path := filepath.Join(pdfs, period+"-"+reissue+".pdf")
	// As a release that did not print the amount off left it: the proof of
	// the same invoice without it.
	// Read from the store afresh: the CLI wrote the re-issue.
	svc, err := invoicing.New(openSQLite(t, h.dir), invoicing.Config{Seller: invoicing.DevSeller()})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Sync(h.ctx); err != nil {
		t.Fatal(err)
	}
	inv, err := svc.Invoice(reissue)
	if err != nil {
		t.Fatal(err)
	}
	invs := []invoicing.Invoice{inv}
	if err := svc.LoadDocuments(h.ctx, invs); err != nil {
		t.Fatal(err)
	}
	earlier := invs[0].InvoiceIssued
	if earlier.Less != 300 || len(earlier.Replaces) == 0 {
		t.Fatalf("the re-issue %+v", earlier)
	}
	earlier.Less = 0
	seller := invoicing.DevSeller()
	r, err := pdf.New(pdf.Config{FontPath: seller.FontPath, QRKeyHex: seller.QRKeyHex})
	if err != nil {
		t.Fatal(err)
	}
	var old bytes.Buffer
	if err := r.RenderInvoice(&old, earlier, seller.PDF(), pdf.InvoiceOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, old.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// acme's proof, whole, of a layout that never changed: kept.
	acmePath := filepath.Join(pdfs, period+"-"+acme+".pdf")
	acmeBefore, err := os.ReadFile(acmePath)
	if err != nil {
		t.Fatal(err)
	}
	kept := append(bytes.Clone(acmeBefore[:len(acmeBefore)-len("%%EOF\n")]), []byte("% kept\n%%EOF\n")...)
	if err := os.WriteFile(acmePath, kept, 0o600); err != nil {
		t.Fatal(err)
	}

	out = mustCLI(t, "invoices", "close", "--month", month, "--pdf-dir", pdfs, dir)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, b), "減收 NT$300")
	if !strings.Contains(out, "1 PDFs") {
		t.Errorf("the close does not count the PDF it wrote again:\n%s", out)
	}
	if now, err := os.ReadFile(acmePath); err != nil || !bytes.Equal(now, kept) {
		t.Errorf("acme's whole PDF was written again (%v)", err)
	}
}

// closeIntoPDFDir is a store with last month's usage of a B2C account
// (solo) and a B2B one (acme), its --data-dir flag, the month to close and
// an empty folder for --pdf-dir.
func closeIntoPDFDir(t *testing.T) (h *ledgerHistory, month, dir, pdfs string) {
	t.Helper()
	h = newLedgerHistory(t)
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	for _, a := range []domain.AccountOpened{
		{AccountID: "solo", Organisation: "王小明工作室", Plan: domain.PlanBusiness},
		{AccountID: "acme", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness},
	} {
		if _, err := h.cmds.OpenAccount(h.ctx, a); err != nil {
			t.Fatal(err)
		}
		h.use(a.AccountID, last.Add(48*time.Hour), "1000")
	}
	return h, last.Format("2006-01"), "--data-dir=" + h.dir, filepath.Join(t.TempDir(), "close")
}

// issuedTo is the number of the invoice a close's output says it issued
// to acct, without its dash.
func issuedTo(t *testing.T, out, acct string) string {
	t.Helper()
	m := regexp.MustCompile(`issued +(AB-\d{8}) +` + acct + ` `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the close issued no invoice to %s:\n%s", acct, out)
	}
	return strings.ReplaceAll(m[1], "-", "")
}
