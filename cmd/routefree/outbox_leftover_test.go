package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/twrules"
)

// A run of `invoices outbox` killed while writing leaves its temporary
// file behind. Turnkey takes any file in SRC, so such a file must never be
// there: the next run clears what a killed run of this writer left (and
// only that), and Turnkey's folder then holds complete files alone.
func TestOutboxClearsWhatAKilledRunLeft(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "events", "generate", "--events", "40", "--accounts", "1")
	period := twrules.PeriodOf(time.Now()).String()
	runCLI(t, env, "invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345009")
	runCLI(t, env, "invoices", "topups")
	tk := filepath.Join(dir, "turnkey")
	src := filepath.Join(tk, "UpCast", "B2SSTORAGE", "F0401", "SRC")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	name := "F0401_" + period + "_AB12345000.xml"
	// What a run killed mid-write left: half a file under the temporary
	// name the writer gives it, in SRC as earlier releases wrote it and
	// beside SRC as this one does.
	left := []string{
		filepath.Join(src, "."+name+".partial-2718281828"),
		filepath.Join(tk, "UpCast", "B2SSTORAGE", "F0401", ".routefree-writing", "."+name+".partial-3141592653"),
	}
	for _, p := range left {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Invoice xmlns="), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Files that are not this writer's stay, whatever they look like.
	theirs := []string{
		filepath.Join(src, "notes.txt"),
		filepath.Join(src, ".other.partial-1"),
		filepath.Join(src, ".C0401_x.xml.partial-12"),
	}
	for _, p := range theirs {
		if err := os.WriteFile(p, []byte("staff"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := runCLI(t, env, "invoices", "outbox", "--dir", tk)
	if !strings.Contains(out, "1 written") {
		t.Fatalf("outbox: %s", out)
	}
	for _, p := range left {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("a killed run's file %s is still there after the next run (%v)\n%s", p, err, out)
		}
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	want := []string{".C0401_x.xml.partial-12", ".other.partial-1", name, "notes.txt"}
	if !slices.Equal(names, want) {
		t.Fatalf("Turnkey's SRC holds %q, want %q", names, want)
	}
	b, err := os.ReadFile(filepath.Join(src, name))
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(b)), "</Invoice>") {
		t.Fatalf("the F0401 in SRC is not whole: %v\n%s", err, b)
	}
}
