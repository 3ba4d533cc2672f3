package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEventsBackupKilledMidwayLeavesNoReadableCopy: `events backup`
// killed (kill -9, an OOM kill, a lost session) while it copies leaves no
// file under --out's name, and what it wrote beside it is its owner's
// alone, as the finished backup would be: never a copy of the history
// that every local user can read.
func TestEventsBackupKilledMidwayLeavesNoReadableCopy(t *testing.T) {
	env := baseEnv("http://127.0.0.1:1/v1")
	dir := t.TempDir()
	runCLI(t, env, "events", "generate", "--events", "150000", "--data-dir", dir)
	outDir := filepath.Join(t.TempDir(), "backups")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(outDir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	out := filepath.Join(outDir, "routefree.backup")
	cmd := exec.Command(binary, "events", "backup", "--data-dir", dir, "--out", out)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Killed once the copy has begun to fill.
	copying := func() bool {
		entries, _ := os.ReadDir(outDir)
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && strings.Contains(e.Name(), "partial") && fi.Size() > 1<<20 {
				return true
			}
		}
		return false
	}
	for !copying() {
		select {
		case err := <-exited:
			t.Fatalf("events backup ended before it could be killed midway (%v): make the history larger", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	<-exited
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a killed backup left %s (%v)", out, err)
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("a killed backup left %s, %d bytes, mode %v: others may read it", e.Name(), fi.Size(), fi.Mode().Perm())
		}
	}
	// The backup runs again to the same name.
	if said := runCLI(t, env, "events", "backup", "--data-dir", dir, "--out", out); !strings.Contains(said, "verified") {
		t.Fatalf("events backup again said:\n%s", said)
	}
}

// TestEventsBackupOnAFullDiskLeavesNothing: a backup whose disk fills
// (its file size limited, as a full disk refuses writes) fails, saying
// so, and leaves nothing beside --out: neither the backup, nor the copy
// begun, nor SQLite's journal of that copy.
func TestEventsBackupOnAFullDiskLeavesNothing(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("prlimit is missing: install util-linux")
	}
	env := baseEnv("http://127.0.0.1:1/v1")
	dir := t.TempDir()
	runCLI(t, env, "events", "generate", "--events", "20000", "--data-dir", dir)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "routefree.backup")
	cmd := exec.Command("prlimit", "--fsize=1000000", binary, "events", "backup", "--data-dir", dir, "--out", out)
	cmd.Env = env
	said, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("events backup with its disk full succeeded:\n%s", said)
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("a failed backup left %s beside --out", e.Name())
	}
	if t.Failed() {
		t.Logf("events backup said:\n%s", said)
	}
}
