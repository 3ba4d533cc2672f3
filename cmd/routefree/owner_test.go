package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/twrules"
)

// serviceUID is the service's user in the tests: nobody.
const serviceUID = 65534

// ownedByService makes dir, owned by the service's user as its data
// directory's parent is where serve runs as that user.
func ownedByService(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, serviceUID, serviceUID); err != nil {
		t.Fatal(err)
	}
	return dir
}

// notRootsBelow names what under dir root owns.
func notRootsBelow(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != serviceUID || st.Gid != serviceUID {
			t.Errorf("%s is owned by %d:%d, want the service's %d:%d, the owner of the folder it was made in", path, st.Uid, st.Gid, serviceUID, serviceUID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Commands an operator runs as root beside a store the service's user
// owns leave that user every folder and file they make: the data
// directory and its store, the PDFs' folders, Turnkey's folders. The
// serve running as that user could otherwise write none of them.
func TestRootsCommandsLeaveTheServiceItsFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, as an operator's sudo")
	}
	parent := ownedByService(t, filepath.Join(t.TempDir(), "srv"))
	dir := filepath.Join(parent, "data")
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "events", "generate", "--events", "40", "--accounts", "1")
	period := twrules.PeriodOf(time.Now()).String()
	runCLI(t, env, "invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345009")
	runCLI(t, env, "invoices", "topups")
	runCLI(t, env, "invoices", "pdf", "--number", "AB12345000", "--out", filepath.Join(dir, "AB12345000.pdf"))
	runCLI(t, env, "invoices", "close", "--month", time.Now().In(twrules.Taipei).AddDate(0, -1, 0).Format("2006-01"),
		"--pdf-dir", filepath.Join(dir, "documents", "close", "last"))
	notRootsBelow(t, parent)

	turnkey := ownedByService(t, filepath.Join(t.TempDir(), "turnkey"))
	if out := runCLI(t, env, "invoices", "outbox", "--dir", turnkey); !strings.Contains(out, "1 written") {
		t.Fatalf("outbox: %s", out)
	}
	notRootsBelow(t, turnkey)
}

// serve started as root on a new data directory in the service user's
// folder makes it, its store, read models and locks that user's: the
// service started as that user later finds them writable.
func TestServeAsRootMakesTheServicesDataDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, as an operator's sudo")
	}
	parent := ownedByService(t, filepath.Join(t.TempDir(), "srv"))
	env := append(baseEnv("http://127.0.0.1:1/v1"), "ROUTEFREE_DATA_DIR="+filepath.Join(parent, "data"))
	p := startServe(t, env)
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	notRootsBelow(t, parent)
}
