package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// raiseKnown records that the file holds events up to position p.
func (s *Store) raiseKnown(p uint64) bool {
	for {
		k := s.known.Load()
		if p <= k {
			return false
		}
		if s.known.CompareAndSwap(k, p) {
			return true
		}
	}
}

// watchOthers notices appends made through other connections (another
// process, or another Store on the same file). PRAGMA data_version on the
// watcher's own connection changes whenever any other connection commits;
// only then is the file's last position read. When it has moved past what
// this store knows, subscribers are woken: their next ReadAll reads the
// file, because memory does not hold those events.
func (s *Store) watchOthers() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	version := int64(-1)
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var v int64
		err := s.watch.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
		if err == nil && v != version {
			var last sql.NullInt64
			if err = s.watch.QueryRowContext(ctx, `SELECT max(position) FROM events`).Scan(&last); err == nil {
				version = v
				if s.raiseKnown(uint64(last.Int64)) {
					s.notify.Notify()
				}
			}
		}
		cancel()
	}
}

// CheckWrite commits a write of its own, as an append would (the write lock
// within the busy timeout, a WAL frame, a sync), without adding an event.
// A gateway whose appends have failed uses it to learn when they would
// succeed again.
func (s *Store) CheckWrite(ctx context.Context) error {
	if err := s.stillAtPath(); err != nil {
		return err
	}
	_, err := s.watch.ExecContext(ctx, `INSERT INTO write_check (id, checked_at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UnixNano())
	return err
}
