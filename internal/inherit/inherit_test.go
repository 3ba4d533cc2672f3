package inherit

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

const other = 65534 // nobody

func owner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// Made as root in another user's folder, folders and files are that
// user's; a file that was there keeps its owner.
func TestMadeAsRootTakeTheFoldersOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	top := filepath.Join(t.TempDir(), "top")
	if err := os.Mkdir(top, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(top, other, other); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(top, "a", "b", "c")
	if err := MkdirAll(deep, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(top, "a"), filepath.Join(top, "a", "b"), deep} {
		if uid, gid := owner(t, p); uid != other || gid != other {
			t.Errorf("%s made as %d:%d, want its folder's %d:%d", p, uid, gid, other, other)
		}
	}
	f, err := OpenFile(filepath.Join(deep, "made.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if uid, gid := owner(t, f.Name()); uid != other || gid != other {
		t.Errorf("file made as %d:%d, want its folder's", uid, gid)
	}
	// A file root had made before is opened as it is.
	kept := filepath.Join(deep, "kept.lock")
	if err := os.WriteFile(kept, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err = OpenFile(kept, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if uid, _ := owner(t, kept); uid != 0 {
		t.Errorf("an existing file changed owner to %d", uid)
	}
	// O_EXCL keeps its meaning.
	if _, err := OpenFile(kept, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); !os.IsExist(err) {
		t.Errorf("O_EXCL of an existing file: %v", err)
	}
}
