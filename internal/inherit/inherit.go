// Package inherit makes folders and files that take the owner and group of
// the folder they are made in when the process runs as root: a command an
// operator runs with sudo beside a store that the service's user owns
// leaves that user a data directory it can still write, as tools that
// chown to the parent directory's owner do. Run as any other user, the
// operating system's own rule holds (the files are the process's).
package inherit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// asRoot tells whether made files would be root's.
var asRoot = os.Geteuid() == 0

// MkdirAll is os.MkdirAll; each folder it makes takes Owner.
func MkdirAll(path string, perm os.FileMode) error {
	if !asRoot {
		return os.MkdirAll(path, perm)
	}
	var missing []string // nearest the root last
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if err := os.MkdirAll(path, perm); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := Owner(missing[i]); err != nil {
			return err
		}
	}
	return nil
}

// Owner gives path, which this process has just made, the owner and group
// of the folder it is in.
func Owner(path string) error {
	if !asRoot {
		return nil
	}
	uid, gid, err := ownerOf(filepath.Dir(path))
	if err != nil {
		return err
	}
	if err := os.Lchown(path, uid, gid); err != nil {
		return fmt.Errorf("give %s the owner of its folder: %w", path, err)
	}
	return nil
}

// File gives f, a file this process has just made in folder dir (one
// renamed into place once written), the owner and group of dir.
func File(f *os.File, dir string) error {
	if !asRoot {
		return nil
	}
	uid, gid, err := ownerOf(dir)
	if err != nil {
		return err
	}
	if err := f.Chown(uid, gid); err != nil {
		return fmt.Errorf("give %s the owner of %s: %w", f.Name(), dir, err)
	}
	return nil
}

// OpenFile is os.OpenFile; a file that flag's O_CREATE makes takes Owner.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	if !asRoot || flag&os.O_CREATE == 0 {
		return os.OpenFile(path, flag, perm)
	}
	for {
		f, err := os.OpenFile(path, flag|os.O_EXCL, perm)
		if err == nil {
			if err := File(f, filepath.Dir(path)); err != nil {
				f.Close()
				return nil, err
			}
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) || flag&os.O_EXCL != 0 {
			return nil, err
		}
		// There already: opened as it is, unless removed meanwhile.
		if f, err = os.OpenFile(path, flag&^os.O_CREATE, perm); !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
	}
}

func ownerOf(dir string) (uid, gid int, err error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return 0, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fmt.Errorf("%s: no owner to give", dir)
	}
	return int(st.Uid), int(st.Gid), nil
}
