package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the store at path to out, while other
// processes read and append: SQLite's VACUUM INTO copies one read
// transaction's snapshot, which appends do not block nor tear (copying the
// file would miss what the WAL holds, or copy half a checkpoint). The copy
// is written beside out and renamed into place once synced, so out is
// either absent or whole; an existing out is refused, never overwritten.
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
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
	if err != nil {
		return err
	}
	partial := tmp.Name()
	tmp.Close()
	// VACUUM INTO fills the empty file CreateTemp made, readable by its
	// owner alone (the history is the business's), as is its journal, which
	// takes its mode: a copy left by a killed backup is no one else's
	// either. Left to make the file itself, it would be 0644.
	defer func() {
		// The copy's rollback journal too, which a failed copy (a full
		// disk) leaves.
		for _, p := range []string{partial, partial + "-journal", partial + "-wal", partial + "-shm"} {
			os.Remove(p)
		}
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
