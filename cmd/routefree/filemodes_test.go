package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestStoreFilesAreTheirOwnersAlone: in a data directory that others may
// enter (made beforehand with 0755, as the image's /data is, or a
// systemd StateDirectory), the files serve makes hold the business's
// history and read models: they are readable by their owner alone, as a
// backup is.
func TestStoreFilesAreTheirOwnersAlone(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "modes"}))
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	p := startServe(t, env, "--data-dir", dir, "--bootstrap-demo")
	check := func() {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s is %v: others may read it", e.Name(), fi.Mode().Perm())
			}
			seen++
		}
		if seen < 4 {
			t.Fatalf("only %d files in the data directory", seen)
		}
	}
	check() // the WAL files too, while serve runs
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	check()
}

// TestStoreFilesOfAnEarlierReleaseAreMadeTheirOwnersAlone: the files an
// earlier release left readable by every local user (events.db,
// readmodels.db, their WAL files, the PDFs under documents/) are made
// their owner's alone by the first command or serve that opens the store,
// which names them once on stderr; a run that finds them so already says
// nothing.
func TestStoreFilesOfAnEarlierReleaseAreMadeTheirOwnersAlone(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "modes"}))
	dir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, env, "--data-dir", dir, "--bootstrap-demo")
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	pdf := filepath.Join(dir, "documents", "invoices", "2026-11-AB12345678-0123456789abcdef.pdf")
	if err := os.MkdirAll(filepath.Dir(pdf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pdf, []byte("%PDF-1.7 an earlier release's"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The SQLite files as an earlier release made them, WAL files too.
	readable := []string{"events.db", "events.db-wal", "events.db-shm", "readmodels.db", "readmodels.db-wal", "readmodels.db-shm", pdf}
	asEarlier := func() {
		t.Helper()
		for _, name := range readable {
			path := name
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, name)
				if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err == nil { // a WAL file a clean stop removed
					f.Close()
				}
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	private := func(when string) {
		t.Helper()
		for _, name := range readable {
			path := name
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, name)
			}
			fi, err := os.Stat(path)
			if os.IsNotExist(err) {
				continue // a WAL file SQLite removed meanwhile
			}
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s is %v", when, name, fi.Mode().Perm())
			}
		}
	}
	// named says whether what the process wrote on stderr names the files
	// it tightened, in one message.
	named := func(who, stderr string) {
		t.Helper()
		var lines []string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, "owner alone") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 {
			t.Fatalf("%s said %d times that it made files their owner's alone:\n%s", who, len(lines), stderr)
		}
		for _, name := range []string{"events.db", "readmodels.db", "events.db-wal", pdf} {
			if !strings.Contains(lines[0], name) {
				t.Errorf("%s did not name %s: %s", who, name, lines[0])
			}
		}
	}

	asEarlier()
	var stderr bytes.Buffer
	if err := runWithStderr(env, &stderr, "events", "verify", "--data-dir", dir); err != nil {
		t.Fatalf("events verify: %v\n%s", err, stderr.String())
	}
	private("after events verify")
	named("events verify", stderr.String())
	stderr.Reset()
	if err := runWithStderr(env, &stderr, "events", "verify", "--data-dir", dir); err != nil {
		t.Fatalf("events verify: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "owner alone") {
		t.Errorf("events verify on files its owner's alone already said:\n%s", stderr.String())
	}

	asEarlier()
	p = startServe(t, env, "--data-dir", dir, "--bootstrap-demo")
	private("while serve runs")
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	private("after serve")
	named("serve", p.logs.String())
}

// TestStoreFilesAnotherUserOwnsAreNamed: a file in the data directory
// that others may read and this process may not make private (another
// user's: copied in as root) is named in a warning, and the command runs.
func TestStoreFilesAnotherUserOwnsAreNamed(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: the test runs the command as nobody on a file root owns")
	}
	env := baseEnv("http://127.0.0.1:1/v1")
	root, err := os.MkdirTemp("", "routefree-modes-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	runCLI(t, env, "events", "generate", "--events", "3000", "--data-dir", data)
	bin := filepath.Join(root, "routefree")
	copyFile(t, binary, bin)
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := filepath.WalkDir(data, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(path, 65534, 65534)
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(data, "events.db"), 0o644); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(data, "documents", "invoices", "2026-11-AB12345678.pdf")
	if err := os.MkdirAll(filepath.Dir(pdf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pdf, []byte("%PDF-1.7 copied in as root"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "events", "verify", "--data-dir", data)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("events verify as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), pdf) || !strings.Contains(string(out), "warning") {
		t.Errorf("events verify did not warn of %s:\n%s", pdf, out)
	}
	if fi, err := os.Stat(filepath.Join(data, "events.db")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("events.db, nobody's, was not made its owner's alone: %v %v", fi.Mode(), err)
	}
}

// runWithStderr runs a command, its stderr to w.
func runWithStderr(env []string, w io.Writer, args ...string) error {
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Stderr = w
	return cmd.Run()
}
