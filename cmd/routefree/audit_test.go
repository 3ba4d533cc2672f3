package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/routefree/routefree/invoicing/twrules"
)

// TestAuditorCommandsOnGeneratedHistory runs the auditor's commands as a
// user would: generate a history, replay it (the total matches what the
// generator computed), export it, then edit one stored body and see
// `events verify` fail and name that event's position.
func TestAuditorCommandsOnGeneratedHistory(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	gen := runCLI(t, env, "events", "generate", "--events", "3000", "--accounts", "20")
	_, total, ok := strings.Cut(gen, "expected TOTAL balance ")
	if !ok {
		t.Fatalf("generate printed %q", gen)
	}
	total = strings.Fields(total)[0]
	replay := runCLI(t, env, "replay")
	if !strings.Contains(replay, "HASH CHAIN  OK  3000 events") {
		t.Fatalf("replay did not verify the chain:\n%s", replay)
	}
	var replayed string
	for _, line := range strings.Split(replay, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "TOTAL" && replayed == "" {
			replayed = f[1]
		}
	}
	if replayed != total {
		t.Fatalf("replayed total %s, generated %s", replayed, total)
	}

	export := runCLI(t, env, "events", "export", "--type", "request.completed")
	lines := exportEvents(t, export)
	if len(lines) != 3000-3*20 {
		t.Fatalf("exported %d request events, want %d", len(lines), 3000-3*20)
	}
	var victim struct {
		Position string `json:"position"`
	}
	if err := json.Unmarshal([]byte(lines[100]), &victim); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(runCLI(t, env, "events", "verify"), "OK 3000 events") {
		t.Fatal("verify of an untouched store must pass")
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	pos := strings.SplitN(victim.Position, "/", 2)[0]
	res, err := db.Exec(`UPDATE events SET data = replace(data, '"cost":"', '"cost":"1') WHERE position = ?`, pos)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("edited %d rows", n)
	}
	db.Close()

	cmd := exec.Command(binary, "events", "verify")
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("verify of a tampered store: %v, want exit status 1\n%s%s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), "position "+victim.Position) {
		t.Fatalf("verify did not name position %s:\n%s", victim.Position, out.String())
	}
}

// TestReplayRegeneratesIssuedInvoicesByteForByte issues top-up invoices,
// keeps the PDF of one as issued, and checks that replay renders the same
// bytes again (its content digest is the hash of the documents' hashes).
func TestReplayRegeneratesIssuedInvoicesByteForByte(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "events", "generate", "--events", "40", "--accounts", "1")
	// A top-up is invoiced when the invoice is issued: in today's period.
	period := twrules.PeriodOf(time.Now()).String()
	runCLI(t, env, "invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345099")
	if out := runCLI(t, env, "invoices", "topups"); !strings.Contains(out, "issued 1 top-up invoices") {
		t.Fatalf("topups: %s", out)
	}
	pdf := filepath.Join(dir, "issued.pdf")
	runCLI(t, env, "invoices", "pdf", "--number", "AB12345000", "--out", pdf)
	b, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("issued PDF: %v", err)
	}
	doc := sha256.Sum256(b)
	want := sha256.Sum256(doc[:])
	replay := runCLI(t, env, "replay")
	line := fmt.Sprintf("INVOICE DOCUMENTS 1  content digest %x", want)
	if !strings.Contains(replay, line) {
		t.Fatalf("replay does not regenerate the issued PDF: want %q in\n%s", line, replay)
	}

	// The period's MIG exports: the invoice in F0401, no void in F0501.
	for msg, want := range map[string][]string{"F0401": {"F0401_AB12345000.xml"}, "f0501": nil} {
		out := filepath.Join(dir, msg+".zip")
		runCLI(t, env, "invoices", "export", "--period", period, "--message", msg, "--out", out)
		zr, err := zip.OpenReader(out)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		zr.Close()
		if fmt.Sprint(names) != fmt.Sprint(want) {
			t.Fatalf("%s export holds %v, want %v", msg, names, want)
		}
	}
	bad := exec.Command(binary, "invoices", "export", "--period", period, "--message", "F9999")
	bad.Env = env
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "F0401, F0501, G0401, G0501 or E0402") {
		t.Fatalf("unknown message: %v %s", err, out)
	}
}
