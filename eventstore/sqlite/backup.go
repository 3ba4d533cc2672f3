package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/routefree/routefree/internal/atomicfile"
	"github.com/routefree/routefree/internal/inherit"
)

// Backup writes a consistent copy of the store at path to out, while other
// processes read and append: SQLite's VACUUM INTO copies one read
// transaction's snapshot, which appends do not block nor tear (copying the
// file would miss what the WAL holds, or copy half a checkpoint). The copy
// is written beside out and renamed into place once synced, so out is
// either absent or whole; an existing out is refused, never overwritten.
// A copy left by a backup killed midway is not removed here:
// RemoveStalePartials does that.
func Backup(ctx context.Context, path, out string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists: a backup never replaces a file", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		return err
	}
	// Not query_only: SQLite refuses VACUUM INTO on such a connection. It
	// writes only the copy.
	db, err := sql.Open("sqlite", URI(path, "_pragma=busy_timeout(10000)"))
	if err != nil {
		return err
	}
	defer db.Close()
	tmp, err := createPartial(out)
	if err != nil {
		return err
	}
	partial := tmp.Name()
	defer tmp.Close() // the lock that tells this copy from a killed backup's, released last
	// VACUUM INTO fills the empty file createPartial made, readable by its
	// owner alone (the history is the business's), as is its journal, which
	// takes its mode: a copy left by a killed backup is no one else's
	// either. Left to make the file itself, it would be 0644.
	defer func() {
		// The copy's rollback journal too, which a failed copy (a full
		// disk) leaves.
		_ = removeCopy(partial)
	}()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", partial); err != nil {
		return fmt.Errorf("eventstore/sqlite: backup of %s, writing its copy beside %s: %w", path, out, err)
	}
	if err := syncFile(partial); err != nil {
		return err
	}
	if err := os.Link(partial, out); err != nil { // fails, rather than replaces, if out appeared meanwhile
		return err
	}
	return syncFile(filepath.Dir(out))
}

// syncFile flushes a file (or a directory's entries) to the disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// partialPattern matches the copies that backups to out write beside it.
func partialPattern(out string) string {
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
}

// createPartial makes the empty file a backup to out copies into, 0600, and
// holds a flock of it until closed: the lock, gone with the process (kill
// -9 included), tells the copy of a running backup from one a killed
// backup left (RemoveStalePartials). A file removed as stale between its
// making and its lock is made again.
func createPartial(out string) (*os.File, error) {
	for {
		f, err := os.CreateTemp(filepath.Dir(out), filepath.Base(partialPattern(out)))
		if err != nil {
			return nil, atomicfile.Named(out, err)
		}
		if err := inherit.File(f, filepath.Dir(out)); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		var held, named syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(f.Name(), &named) == nil && held.Ino == named.Ino {
			return f, nil
		}
		f.Close()
	}
}

// RemoveStalePartials removes the copies that backups to out killed midway
// left beside it (each as large as the history), with their journals, and
// returns their paths. The copy of a backup still running, which holds its
// lock, is left to it.
func RemoveStalePartials(out string) ([]string, error) {
	paths, err := filepath.Glob(partialPattern(out))
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, p := range paths {
		if isCompanion(p) {
			continue // removed with its copy
		}
		lock, err := lockStale(p)
		if err != nil {
			return removed, err
		}
		if lock == nil {
			continue
		}
		// Removed under the lock: a backup that made the file a moment ago
		// and waits for its lock then finds it gone, and makes another.
		err = removeCopy(p)
		lock.Close()
		if err != nil {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// isCompanion tells SQLite's journal files of a copy from the copy.
func isCompanion(path string) bool {
	for _, suffix := range []string{"-journal", "-wal", "-shm"} {
		if strings.HasSuffix(path, suffix) {
			return true
		}
	}
	return false
}

// removeCopy removes a copy and its journals.
func removeCopy(path string) error {
	for _, f := range []string{path, path + "-journal", path + "-wal", path + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// lockStale takes the lock of the copy at path when no backup holds it,
// and returns the file holding it; nil when a backup holds it or the file
// is gone.
func lockStale(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}
