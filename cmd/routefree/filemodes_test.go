package main

import (
	"os"
	"path/filepath"
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
