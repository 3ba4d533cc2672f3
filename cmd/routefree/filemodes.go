package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// privateNames are the files of the data directory that hold the business's
// history and read models; documents/ holds its invoices' PDFs.
var privateNames = []string{
	"events.db", "events.db-wal", "events.db-shm", "events.db-journal",
	"readmodels.db", "readmodels.db-wal", "readmodels.db-shm", "readmodels.db-journal",
}

// makeDataPrivate makes the data directory's files that hold billing data
// readable by their owner alone where an earlier release left them
// readable by others (it made them 0644 in a data directory others may
// enter), and says once, through warn, which it changed. A file this
// process may not change (another user's) is named, not fatal: the store
// opens as before. Done once a process.
func (c *Config) makeDataPrivate() {
	if c.madePrivate || c.DataDir == "" {
		return
	}
	c.madePrivate = true
	changed, refused := tightenModes(c.DataDir)
	if len(changed) > 0 {
		c.warn(fmt.Sprintf("made readable by their owner alone, as an earlier release had left them readable by every local user: %s",
			listed(changed)))
	}
	for _, err := range refused {
		c.warn(fmt.Sprintf("%v: readable by every local user and not this process's to change; chmod 600 it as its owner", err))
	}
}

// listed names the first ten paths and counts the rest: a directory of
// years of invoices' PDFs would otherwise fill a log line.
func listed(paths []string) string {
	const shown = 10
	if len(paths) <= shown {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:shown], ", "), len(paths)-shown)
}

// warn tells the operator on stderr: serve's log, or a command's plain line.
func (c *Config) warn(msg string) {
	if c.log != nil {
		c.log.Warn(msg)
		return
	}
	if c.stderr != nil {
		fmt.Fprintf(c.stderr, "routefree: warning: %s\n", msg)
	}
}

// tightenModes takes the group's and others' bits off the store's files in
// dir and the regular files under dir/documents, and returns the paths it
// changed and the errors of those it could not.
func tightenModes(dir string) (changed []string, refused []error) {
	try := func(path string, mode fs.FileMode) {
		if mode.Perm()&0o077 == 0 {
			return
		}
		if err := os.Chmod(path, mode.Perm()&0o700); err != nil {
			refused = append(refused, err)
			return
		}
		changed = append(changed, path)
	}
	for _, name := range privateNames {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			try(path, fi.Mode())
		}
	}
	err := filepath.WalkDir(filepath.Join(dir, "documents"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil // unreadable parts are left as they are; links lead out of the directory
		}
		if fi, err := d.Info(); err == nil {
			try(path, fi.Mode())
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		refused = append(refused, err)
	}
	return changed, refused
}
