// Package atomicfile replaces a file whole or not at all.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/routefree/routefree/internal/inherit"
)

// Write writes b to path through a temporary file in the same directory,
// renamed into place: neither a reader nor a process killed or refused
// midway (a full disk) leaves half a file at path, and an earlier file
// stays whole until the new one replaces it. The file gets mode perm, and
// (inherit.File) the owner of its folder when written as root.
//
// With sync, the file and then its directory are flushed to the disk
// before Write returns, so that the new file also survives the machine's
// crash: an operator's output is worth the two flushes. Files that can be
// made again (a cache, PDFs that a close writes by the thousand) skip them.
func Write(path string, b []byte, perm os.FileMode, sync bool) error {
	return WriteVia(path, filepath.Dir(path), b, perm, sync)
}

// WriteVia is Write with the temporary file made in tmpDir rather than
// beside path: for a folder that another program reads every file of
// (Turnkey's SRC), where even a temporary file must never lie. tmpDir
// must be on path's file system, for the rename.
func WriteVia(path, tmpDir string, b []byte, perm os.FileMode, sync bool) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(tmpDir, "."+filepath.Base(path)+partial+"*")
	if err != nil {
		return Named(path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if err := inherit.File(tmp, dir); err != nil {
		return err
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	if !sync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Named is err, a failure to make the temporary file written beside path,
// told of path: the file the caller named, not a hidden one it never saw
// (a folder that does not exist, one it may not write).
func Named(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: "create", Path: path, Err: pe.Err}
	}
	return err
}

// partial marks the temporary files that Write makes: .<name>.partial-<digits>.
const partial = ".partial-"

// Leftover reports whether name is that of a temporary file Write or
// WriteVia makes, and for which file name: what a process killed midway
// leaves behind.
func Leftover(name string) (of string, ok bool) {
	i := strings.LastIndex(name, partial)
	if i < 2 || name[0] != '.' {
		return "", false
	}
	digits := name[i+len(partial):]
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	return name[1:i], true
}
