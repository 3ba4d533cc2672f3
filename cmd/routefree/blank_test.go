package main

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/twrules"
)

// TestInvoicesExportE0402: `invoices export --message E0402` writes the
// unused numbers of a period that has ended, and refuses the running one,
// saying until when its numbers may be used.
func TestInvoicesExportE0402(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	if code := startServe(t, env).stop(syscall.SIGTERM, 30*time.Second); code != 0 { // makes the store
		t.Fatalf("serve exit status %d", code)
	}
	now := twrules.PeriodOf(time.Now())
	last := twrules.PeriodOf(now.Start().AddDate(0, -1, 0))
	runCLI(t, env, "invoices", "range", "--period", last.String(), "--prefix", "XY", "--from", "10000000", "--to", "10000049")

	out := filepath.Join(t.TempDir(), "e0402.zip")
	runCLI(t, env, "invoices", "export", "--period", last.String(), "--message", "E0402", "--out", out)
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "E0402_"+last.Code()+"_XY.xml" {
		t.Fatalf("E0402 zip of %s holds %v", last, zr.File)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	for _, want := range []string{"<YearMonth>" + last.Code() + "</YearMonth>", "<InvoiceTrack>XY</InvoiceTrack>",
		"<InvoiceBeginNo>10000000</InvoiceBeginNo>", "<InvoiceEndNo>10000049</InvoiceEndNo>"} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("E0402 lacks %s:\n%s", want, b)
		}
	}

	said, err := runCLIErr(env, "invoices", "export", "--period", now.String(), "--message", "E0402", "--out", filepath.Join(t.TempDir(), "early.zip"))
	if err == nil || !strings.Contains(said, "runs until") {
		t.Fatalf("E0402 of the running period: %v\n%s", err, said)
	}
}
