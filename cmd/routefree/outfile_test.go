package main

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// `invoices pdf --out` and `invoices export --out` replace an earlier file
// whole or not at all: a write that fails midway (here the process's file
// size limit, as a full disk would) leaves the earlier good file as it
// was, and no stray temporary file; a write that succeeds leaves the
// complete document. The store is PostgreSQL, so that no store file
// meets the limit (the PDF cache under the data directory is only a cache:
// a write of it that fails is not the command's failure).
func TestInvoiceOutFilesAreReplacedWhole(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("prlimit (util-linux) is needed to limit a command's file size")
	}
	store := []string{"--store", "postgres", "--postgres-url", testenv.PostgresURL(t), "--data-dir", t.TempDir()}
	with := func(args ...string) []string { return append(args, store...) }
	mustCLI(t, with("events", "generate", "--events", "60", "--accounts", "4")...)
	period := twrules.PeriodOf(time.Now()).String()
	mustCLI(t, with("invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345099")...)
	mustCLI(t, with("invoices", "topups")...)

	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		args  []string
		check func(t *testing.T, b []byte)
	}{
		{"invoice.pdf", []string{"invoices", "pdf", "--number", "AB12345000"}, func(t *testing.T, b []byte) {
			pdftest.MustContain(t, pdftest.Text(t, b), "AB-12345000")
		}},
		{"F0401.zip", []string{"invoices", "export", "--message", "F0401", "--period", period}, func(t *testing.T, b []byte) {
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("the export is not a whole zip: %v", err)
			}
			if len(zr.File) != 4 {
				t.Fatalf("the export holds %d files, want the period's 4 invoices", len(zr.File))
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name)
			// A good file from an earlier run.
			runCLI(t, baseEnv(""), append(with(c.args...), "--out", out)...)
			good, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, good)

			// Again, with writes cut at 512 bytes.
			cmd := exec.Command("prlimit", append([]string{"--fsize=512", "--", binary}, append(with(c.args...), "--out", out)...)...)
			cmd.Env = baseEnv("")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err == nil {
				t.Fatalf("a write past the file size limit succeeded:\n%s", stderr.String())
			}
			after, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("the earlier file is gone: %v", err)
			}
			if !bytes.Equal(after, good) {
				t.Fatalf("the failed write changed the earlier file: %d bytes, were %d (%s)", len(after), len(good), strings.TrimSpace(stderr.String()))
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if !strings.HasSuffix(e.Name(), ".pdf") && !strings.HasSuffix(e.Name(), ".zip") {
					t.Errorf("left behind: %s", e.Name())
				}
			}

			// Without the limit the file is replaced, complete.
			runCLI(t, baseEnv(""), append(with(c.args...), "--out", out)...)
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, b)
		})
	}
}

// An --out in a folder that does not exist (a typo) is refused naming the
// file asked for, not the hidden temporary file the command writes first
// (".x.pdf.partial-2672171448: no such file or directory"), which the
// operator never named and cannot find.
func TestOutFileInAMissingFolderIsNamed(t *testing.T) {
	dir := t.TempDir()
	env := append(baseEnv(""), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "events", "generate", "--events", "40", "--accounts", "1")
	period := twrules.PeriodOf(time.Now()).String()
	runCLI(t, env, "invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345009")
	runCLI(t, env, "invoices", "topups")
	missing := filepath.Join(dir, "no-such-folder")
	for _, args := range [][]string{
		{"invoices", "pdf", "--number", "AB12345000", "--out", filepath.Join(missing, "x.pdf")},
		{"invoices", "export", "--period", period, "--out", filepath.Join(missing, "f0401.zip")},
		{"events", "backup", "--out", filepath.Join(missing, "backup.db")},
	} {
		cmd := exec.Command(binary, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), args[len(args)-1]+": no such file or directory") || strings.Contains(string(out), ".partial-") {
			t.Errorf("routefree %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
