package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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

// TestEventsBackupRemovesTheCopyAKilledOneLeft: the copy a killed backup
// left beside --out (a whole history's size, at times) is removed by the
// next backup to that --out, which says so; the copy of a backup still
// running to the same --out (here stopped with SIGSTOP, as a slow disk
// would hold it) is left to it.
func TestEventsBackupRemovesTheCopyAKilledOneLeft(t *testing.T) {
	env := baseEnv("http://127.0.0.1:1/v1")
	dir := t.TempDir()
	runCLI(t, env, "events", "generate", "--events", "150000", "--data-dir", dir)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "routefree.backup")
	// partials are the copies beside --out, without SQLite's journals.
	partials := func() map[string]bool {
		entries, _ := os.ReadDir(outDir)
		got := map[string]bool{}
		for _, e := range entries {
			if strings.Contains(e.Name(), "partial") && !strings.HasSuffix(e.Name(), "-journal") {
				got[e.Name()] = true
			}
		}
		return got
	}
	// midway starts a backup and returns it once a copy of it fills.
	midway := func(before map[string]bool) (*exec.Cmd, <-chan error, string) {
		t.Helper()
		cmd := exec.Command(binary, "events", "backup", "--data-dir", dir, "--out", out)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		for {
			for name := range partials() {
				if fi, err := os.Stat(filepath.Join(outDir, name)); err == nil && !before[name] && fi.Size() > 1<<20 {
					return cmd, exited, name
				}
			}
			select {
			case err := <-exited:
				t.Fatalf("events backup ended before it was caught midway (%v): make the history larger", err)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	running, runningExited, live := midway(nil)
	if err := running.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer running.Process.Signal(syscall.SIGCONT)
	killed, exited, stale := midway(map[string]bool{live: true})
	_ = killed.Process.Kill()
	<-exited
	cmd := exec.Command(binary, "events", "backup", "--data-dir", dir, "--out", out)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	_ = running.Process.Signal(syscall.SIGCONT)
	if err != nil || !strings.Contains(stdout.String(), "verified") {
		t.Fatalf("events backup after a killed one: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	left := partials()
	if left[stale] {
		t.Errorf("the copy %s of the killed backup is still beside --out", stale)
	}
	if !strings.Contains(stderr.String(), stale) {
		t.Errorf("events backup did not say it removed %s:\n%s", stale, stderr.String())
	}
	if !left[live] {
		t.Errorf("the copy %s of the backup still running was removed", live)
	}
	if strings.Contains(stderr.String(), live) {
		t.Errorf("events backup spoke of the running backup's copy %s:\n%s", live, stderr.String())
	}
	// The one that ran on finds --out taken, and takes its copy away.
	if err := <-runningExited; err == nil {
		t.Errorf("the backup stopped meanwhile replaced %s", out)
	}
	if left := partials(); len(left) != 0 {
		t.Errorf("copies left beside --out: %v", left)
	}
}
