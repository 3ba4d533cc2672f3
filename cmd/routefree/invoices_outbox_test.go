package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/twrules"
)

// The CLI adds ranges and lists what is left, prints the 5.7 cm proof and
// fills Turnkey's folders.
func TestInvoicesRangesOutboxAndThermalCLI(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "events", "generate", "--events", "40", "--accounts", "1")
	period := twrules.PeriodOf(time.Now()).String()
	runCLI(t, env, "invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345000")
	bad := exec.Command(binary, "invoices", "range", "--period", period, "--prefix", "AB", "--from", "12344990", "--to", "12345000")
	bad.Env = env
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "overlaps") {
		t.Fatalf("overlapping range: %v %s", err, out)
	}
	out := runCLI(t, env, "invoices", "range", "--period", period, "--prefix", "CD", "--from", "0", "--to", "49")
	if !strings.Contains(out, "2 ranges, 51 numbers, 0 used, 51 left") {
		t.Fatalf("range list: %s", out)
	}
	runCLI(t, env, "invoices", "topups")
	pdf := filepath.Join(dir, "thermal.pdf")
	runCLI(t, env, "invoices", "pdf", "--number", "AB12345000", "--thermal", "--out", pdf)
	if b, err := os.ReadFile(pdf); err != nil || !strings.HasPrefix(string(b), "%PDF-") {
		t.Fatalf("thermal PDF: %v", err)
	}
	// A Turnkey folder mistyped is refused, not made: files written there
	// would wait for a Turnkey that never reads them, past their deadlines,
	// while the command said they were written.
	tk := filepath.Join(dir, "turnkey")
	typo := exec.Command(binary, "invoices", "outbox", "--dir", tk)
	typo.Env = env
	if out, err := typo.CombinedOutput(); err == nil || !strings.Contains(string(out), tk) || !strings.Contains(string(out), "does not exist") || strings.Contains(string(out), "written") {
		t.Fatalf("outbox into a folder that does not exist: %v\n%s", err, out)
	}
	if _, err := os.Stat(tk); !os.IsNotExist(err) {
		t.Fatalf("outbox made the folder it was given: %v", err)
	}
	if err := os.Mkdir(tk, 0o755); err != nil {
		t.Fatal(err)
	}
	out = runCLI(t, env, "invoices", "outbox", "--dir", tk)
	if !strings.Contains(out, "1 written, 0 uploaded, 0 rejected, 1 pending") {
		t.Fatalf("outbox: %s", out)
	}
	if _, err := os.Stat(filepath.Join(tk, "UpCast", "B2SSTORAGE", "F0401", "SRC", "F0401_"+period+"_AB12345000.xml")); err != nil {
		t.Fatal(err)
	}
	if out = runCLI(t, env, "invoices", "range", "--period", period); !strings.Contains(out, "1 used, 50 left") {
		t.Fatalf("range list after issue: %s", out)
	}
}
