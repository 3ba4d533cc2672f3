package main

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/twrules"
)

// Finance's typo, as a user meets it: a range typed for the period that
// has ended, whose E0402 the outbox has already left in Turnkey's SRC, is
// withdrawn with a reason; the listing shows it withdrawn, by whom and
// why, the next outbox run takes its E0402 back, and the period's E0402
// export names it no more. A range an invoice was numbered from is
// refused, saying what to do instead. A period far from the current one
// is refused unless --far-period says it is meant.
func TestCLIWithdrawsATypedRange(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "events", "generate", "--events", "40", "--accounts", "1")
	now := twrules.PeriodOf(time.Now())
	last := now.Prev()
	runCLI(t, env, "invoices", "range", "--period", now.String(), "--prefix", "AB", "--from", "12345000", "--to", "12345099")
	runCLI(t, env, "invoices", "range", "--period", last.String(), "--prefix", "XY", "--from", "10000000", "--to", "10000049")
	runCLI(t, env, "invoices", "topups")

	// The year typed wrong: refused, naming the flag; with it, taken.
	far := twrules.PeriodOf(now.Start().AddDate(-1, 0, 0)).String()
	farRange := []string{"invoices", "range", "--period", far, "--prefix", "FA", "--from", "20000000", "--to", "20000009"}
	if said, err := runCLIErr(env, farRange...); err == nil || !strings.Contains(said, "--far-period") || !strings.Contains(said, "more than one period from the current one") {
		t.Fatalf("range of %s, a year back: %v\n%s", far, err, said)
	}
	if out := runCLI(t, env, "invoices", "range", "--period", far); !strings.Contains(out, "0 ranges") {
		t.Fatalf("the refused range was recorded:\n%s", out)
	}
	if out := runCLI(t, env, append(farRange, "--far-period")...); !strings.Contains(out, "added FA20000000-FA20000009 to period "+far) {
		t.Fatalf("range of %s with --far-period:\n%s", far, out)
	}

	tk := filepath.Join(dir, "turnkey")
	if err := os.Mkdir(tk, 0o755); err != nil {
		t.Fatal(err)
	}
	runCLI(t, env, "invoices", "outbox", "--dir", tk)
	e0402 := filepath.Join(tk, "UpCast", "B2SSTORAGE", "E0402", "SRC", "E0402_"+last.Code()+"_XY.xml")
	if _, err := os.Stat(e0402); err != nil {
		t.Fatalf("the typed range's E0402 was not written before the withdrawal: %v", err)
	}

	withdraw := []string{"invoices", "range", "--withdraw", "--period", last.String(), "--prefix", "XY", "--from", "10000000", "--to", "10000049"}
	if said, err := runCLIErr(env, withdraw...); err == nil || !strings.Contains(said, "--reason is required") {
		t.Fatalf("withdrawal without a reason: %v\n%s", err, said)
	}
	out := runCLI(t, env, append(withdraw, "--reason", "meant for "+now.Next().String())...)
	if !strings.Contains(out, "withdrew XY10000000-XY10000049 from period "+last.String()) ||
		!strings.Contains(out, "XY10000000-XY10000049  withdrawn ") || !strings.Contains(out, "by cli:") || !strings.Contains(out, "meant for "+now.Next().String()) ||
		!strings.Contains(out, "0 ranges, 0 numbers") {
		t.Fatalf("withdrawal:\n%s", out)
	}
	if out := runCLI(t, env, append(withdraw, "--reason", "again")...); !strings.Contains(out, "was already withdrawn") {
		t.Fatalf("withdrawal again:\n%s", out)
	}

	out = runCLI(t, env, "invoices", "outbox", "--dir", tk)
	if !strings.Contains(out, "removed   UpCast/B2SSTORAGE/E0402/SRC/E0402_"+last.Code()+"_XY.xml") {
		t.Fatalf("outbox after the withdrawal:\n%s", out)
	}
	if _, err := os.Stat(e0402); !os.IsNotExist(err) {
		t.Fatalf("the withdrawn range's E0402 is still in Turnkey's SRC: %v", err)
	}
	zipped := filepath.Join(t.TempDir(), "e0402.zip")
	runCLI(t, env, "invoices", "export", "--period", last.String(), "--message", "E0402", "--out", zipped)
	zr, err := zip.OpenReader(zipped)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.Contains(f.Name, "_XY") {
			t.Fatalf("the E0402 export of %s holds %s, of a withdrawn range", last, f.Name)
		}
	}

	// A typo noticed only after Turnkey sent its E0402: withdrawn, with a
	// warning that the platform holds the report.
	runCLI(t, env, "invoices", "range", "--period", last.String(), "--prefix", "ZZ", "--from", "0", "--to", "9")
	runCLI(t, env, "invoices", "outbox", "--dir", tk)
	zz := "E0402_" + last.Code() + "_ZZ.xml"
	bak := filepath.Join(tk, "UpCast", "B2SSTORAGE", "E0402", "BAK")
	if err := os.MkdirAll(bak, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(filepath.Dir(e0402), zz), filepath.Join(bak, zz)); err != nil {
		t.Fatal(err)
	}
	runCLI(t, env, "invoices", "outbox", "--dir", tk)
	sent := exec.Command(binary, "invoices", "range", "--withdraw", "--period", last.String(), "--prefix", "ZZ", "--from", "0", "--to", "9", "--reason", "typo")
	sent.Env = env
	said, err := sent.CombinedOutput()
	if err != nil || !strings.Contains(string(said), "withdrew ZZ00000000-ZZ00000009") || !strings.Contains(string(said), "Turnkey had already sent the E0402 of 字軌 ZZ") {
		t.Fatalf("withdrawal after Turnkey sent the E0402: %v\n%s", err, said)
	}

	used := exec.Command(binary, "invoices", "range", "--withdraw", "--period", now.String(), "--prefix", "AB", "--from", "12345000", "--to", "12345099", "--reason", "typo")
	used.Env = env
	said, err = used.CombinedOutput()
	if err == nil || !strings.Contains(string(said), "cannot be withdrawn") || !strings.Contains(string(said), "Void the invoices") || !strings.Contains(string(said), "E0402") {
		t.Fatalf("withdrawal of a range an invoice was numbered from: %v\n%s", err, said)
	}
	if out := runCLI(t, env, "invoices", "range", "--period", now.String()); !strings.Contains(out, "1 ranges, 100 numbers, 1 used, 99 left") || strings.Contains(out, "withdrawn") {
		t.Fatalf("after the refusal:\n%s", out)
	}
}
