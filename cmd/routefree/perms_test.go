package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestAStoreTheUserCannotWriteIsNamed: a store made by another user (serve
// or a restore run once as root, then the service started as its own
// user) is refused saying what is wrong, permission denied on which file,
// not SQLite's "unable to open database file", by serve and the CLI alike.
func TestAStoreTheUserCannotWriteIsNamed(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "perms"}))
	root, err := os.MkdirTemp("", "routefree-perms-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	p := startServe(t, env, "--data-dir", data)
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	// Another user: nobody, when the test runs as root (root may write
	// anything); else the same user, with the store made read-only.
	bin := filepath.Join(root, "routefree")
	copyFile(t, binary, bin)
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	as := func(cmd *exec.Cmd) {}
	if os.Getuid() == 0 {
		if err := os.Chmod(data, 0o755); err != nil {
			t.Fatal(err)
		}
		as = func(cmd *exec.Cmd) {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
	} else {
		if err := os.Chmod(filepath.Join(data, "events.db"), 0o400); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(data, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(data, 0o700) })
	}
	for _, args := range [][]string{
		{"events", "verify", "--data-dir", data},
		{"serve", "--listen", "127.0.0.1:0", "--data-dir", data},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		as(cmd)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "permission denied") || !strings.Contains(string(out), data) {
			t.Fatalf("routefree %s on a store it may not write: %v\n%s", strings.Join(args, " "), err, tail(string(out), 2048))
		}
	}
}
