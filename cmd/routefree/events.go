package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

func init() {
	register("events export", "write events as JSON Lines, filtered by stream, type and time", cmdEventsExport)
	register("events verify", "check the hash chain and the global order; names the first broken event", cmdEventsVerify)
	register("events backup", "write a consistent copy of the SQLite store to a file, beside a running serve, and verify it", cmdEventsBackup)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, twrules.Taipei); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s: want an RFC 3339 instant such as 2026-12-01T09:00:00+08:00 or a date such as 2026-12-01 (Taipei)", domain.Quote(s))
}

func cmdEventsExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("events export", stderr)
	stream := fs.String("stream", "", "only this stream")
	typ := fs.String("type", "", "only this event type")
	since := fs.String("since", "", "only events that occurred at or after (RFC 3339, or a date in Taipei)")
	until := fs.String("until", "", "only events that occurred before (RFC 3339, or a date in Taipei)")
	var from, to time.Time
	if err := parse(fs, c, args, func() []error {
		var problems []error
		var err error
		if from, err = parseTime(*since); err != nil {
			problems = append(problems, fmt.Errorf("--since %v", err))
		}
		if to, err = parseTime(*until); err != nil {
			problems = append(problems, fmt.Errorf("--until %v", err))
		}
		// A filter that can match nothing by mistake would write an empty
		// export that reads as a true one.
		if *typ != "" && !domain.Known(*typ) {
			problems = append(problems, fmt.Errorf("--type: event type %s does not exist; the types are %s", domain.Quote(*typ), strings.Join(domain.Types(), ", ")))
		}
		if !from.IsZero() && !to.IsZero() && !to.After(from) {
			problems = append(problems, errors.New("--until must come after --since"))
		}
		return problems
	}); err != nil {
		return err
	}
	filter := eventstore.Filter{Stream: *stream, Type: *typ, Since: from, Until: to}
	store, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	// A mistyped stream would match nothing, like an unknown type.
	if *stream != "" {
		if _, err := store.ReadStream(ctx, *stream, 0, 1); errors.Is(err, eventstore.ErrStreamNotFound) {
			return fmt.Errorf("%w: --stream: stream %s does not exist: no event was ever appended to it", errUsage, domain.Quote(*stream))
		} else if err != nil {
			return err
		}
	}
	w := bufio.NewWriterSize(stdout, 1<<16)
	exp := commands.NewExportWriter(w, filter == eventstore.Filter{})
	prog := newProgress(stderr, "exported")
	pos := eventstore.Start
	for {
		evs, err := store.ReadAll(ctx, pos, 5000)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		for i := range evs {
			if !filter.Match(&evs[i]) {
				continue
			}
			if err := exp.Write(&evs[i]); err != nil {
				return err
			}
		}
		pos = evs[len(evs)-1].Position
		prog.tick(exp.Events())
	}
	prog.done(exp.Events())
	// The end record goes last, after every event was written: an export
	// that stops early for any reason lacks it.
	if err := exp.End(); err != nil {
		return err
	}
	return w.Flush()
}

func cmdEventsVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("events verify", stderr)
	export := fs.String("export", "", "check an `events export` file instead of the store: every line, and its end record")
	unmarked := fs.Bool("accept-unmarked", false, "with --export: accept an export without an end record, as releases before end records wrote them")
	backup := fs.String("backup", "", "check an `events backup` file where it is kept instead of the store, writing nothing to it or beside it (read-only media too)")
	if err := parse(fs, c, args, func() []error {
		if *export != "" && *backup != "" {
			return []error{errors.New("--export and --backup each name the file to check: give one")}
		}
		return nil
	}); err != nil {
		return err
	}
	if *export != "" {
		return verifyExport(*export, *unmarked, stdout, stderr)
	}
	if *backup != "" {
		return verifyBackup(ctx, *backup, stdout, stderr)
	}
	store, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	// Read before the chain: a serve appending meanwhile only moves the
	// store's head further past it.
	rec := readAppliedHead(ctx, c)
	res, err := verifyChain(ctx, store, stdout, stderr)
	if err != nil {
		return err
	}
	line, cut := rec.check(ctx, store, res)
	if cut != nil {
		fmt.Fprintf(stdout, "FAIL %s\n", line)
		return cut
	}
	fmt.Fprintf(stdout, "OK %d events, chain head %x, last position %s\n%s\n", res.Events, res.Head, res.Last, line)
	return nil
}

// verifyBackup checks the hash chain of a backup file without writing to
// it: a backup has no read models beside it, so its head is the chain's
// own, to compare with what `events backup` printed when it was made.
func verifyBackup(ctx context.Context, path string, stdout, stderr io.Writer) error {
	b, err := sqlite.OpenSnapshot(path)
	if err != nil {
		return err
	}
	defer b.Close()
	res, err := verifyChain(ctx, b, stdout, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK %d events, chain head %x, last position %s (the backup %s, as `events backup` printed them when it made it)\n",
		res.Events, res.Head, res.Last, path)
	return nil
}

// verifyChain walks the hash chain of r with progress on stderr; a break
// is printed as FAIL on stdout and returned as the error.
func verifyChain(ctx context.Context, r eventstore.Reader, stdout, stderr io.Writer) (eventstore.VerifyResult, error) {
	prog := newProgress(stderr, "verified")
	res, err := eventstore.Verify(ctx, r, prog.tick)
	if err != nil {
		return res, err
	}
	prog.done(res.Events)
	if res.Break != nil {
		fmt.Fprintf(stdout, "FAIL %v\n", res.Break)
		return res, fmt.Errorf("hash chain broken at position %s", res.Break.Position)
	}
	return res, nil
}

// appliedHead is what the read models beside the store record of how far
// the history went: the last event serve applied to them. A chain cut at
// its newest events verifies; a store whose head is behind this record
// lost them.
type appliedHead struct {
	projections.Applied
	ok    bool
	where string // the record, or why there is none
}

// readAppliedHead reads the usage model's checkpoint: in readmodels.db
// beside the store, or in PostgreSQL's projection_checkpoints table beside
// the events. It only reads, so a serve may run.
func readAppliedHead(ctx context.Context, c *Config) appliedHead {
	where := "the read models (PostgreSQL table projection_checkpoints)"
	var db *sql.DB
	var err error
	d := projections.Postgres
	if c.Store == "postgres" {
		db, err = sql.Open("pgx", c.PostgresURL)
	} else {
		d, where = projections.SQLite, "the read models at "+c.readModelPath()
		if _, serr := os.Stat(c.readModelPath()); errors.Is(serr, fs.ErrNotExist) {
			return appliedHead{where: "no read models at " + c.readModelPath() + " (serve writes them)"}
		}
		db, err = sql.Open("sqlite", sqlite.URI(c.readModelPath(), "mode=ro&_pragma=busy_timeout(10000)"))
	}
	if err != nil {
		return appliedHead{where: fmt.Sprintf("%s could not be read (%v)", where, err)}
	}
	defer db.Close()
	a, ok, err := projections.ReadApplied(ctx, db, d)
	switch {
	case err != nil:
		return appliedHead{where: fmt.Sprintf("%s could not be read (%v)", where, err)}
	case !ok:
		return appliedHead{where: where + " record no event applied"}
	}
	return appliedHead{Applied: a, ok: true, where: where}
}

// check compares the verified chain with the record. cut is non-nil when
// the store lacks events the read models applied; line says what was
// found, or that the head could not be checked.
func (h appliedHead) check(ctx context.Context, store eventstore.Store, res eventstore.VerifyResult) (line string, cut error) {
	if !h.ok {
		return fmt.Sprintf("head not checked: %s; a store whose newest events were deleted verifies: compare the chain head with one noted earlier", h.where), nil
	}
	if res.Last.Less(h.Position) {
		return fmt.Sprintf("the store's head (position %s, %d events) is behind what %s record as applied (position %s, event %s): "+
				"events after position %s were deleted, or the store was put back from an older copy", res.Last, res.Events, h.where, h.Position, h.ID, res.Last),
			fmt.Errorf("events after position %s were deleted", res.Last)
	}
	r, ok := store.(eventstore.EventReader)
	if !ok || h.ID == (uuid.UUID{}) {
		return fmt.Sprintf("head checked by position only: %s record events applied through position %s, which the store's history reaches", h.where, h.Position), nil
	}
	e, err := r.ReadEvent(ctx, h.ID)
	if err != nil && !errors.Is(err, eventstore.ErrEventNotFound) {
		return fmt.Sprintf("head not checked: reading event %s, which %s record as applied: %v", h.ID, h.where, err), nil
	}
	if err != nil || e.Position != h.Position || !bytes.Equal(e.Hash, h.Hash) {
		return fmt.Sprintf("the store no longer holds event %s at position %s, which %s record as applied: events up to that position were deleted "+
				"and others appended since, or the store was replaced", h.ID, h.Position, h.where),
			fmt.Errorf("the store no longer holds event %s, which the read models applied", h.ID)
	}
	return fmt.Sprintf("head checked: %s record events applied through position %s, and the store holds that event; "+
		"events after it are proved only by a chain head noted earlier", h.where, h.Position), nil
}

// verifyExport reads an export back and checks that it is whole.
func verifyExport(path string, allowUnmarked bool, stdout, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := commands.ReadExport(f, allowUnmarked, nil)
	if errors.Is(err, commands.ErrExportUnmarked) {
		return fmt.Errorf("%s: %w; an export by an earlier release is read with --accept-unmarked", path, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if res.Unmarked {
		fmt.Fprintf(stderr, "warning: %s has no end record: read as an earlier release's export, it cannot be told from a whole one cut short\n", path)
	}
	if res.WholeHistory || res.Unmarked {
		fmt.Fprintf(stdout, "OK export of %d events, last hash %s\n", res.Events, res.LastHash)
		return nil
	}
	// A filtered export proves each event it holds, not that it holds
	// every event its filter matched: say so, and where to check that.
	fmt.Fprintf(stdout, "OK export of %d events, last hash %s: each event's hash verified; a filtered export (not the whole history) "+
		"cannot show that no matching event was left out: run `events verify` on the store, whose chain covers every event\n", res.Events, res.LastHash)
	return nil
}

func cmdEventsBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("events backup", stderr)
	out := fs.String("out", "", "the backup file to write (required; never replaced)")
	if err := parse(fs, c, args, func() []error {
		problems := []error{required("out", *out)}
		if c.Store == "postgres" || c.Store == "kurrentdb" {
			problems = append(problems, errors.New("events backup copies the embedded SQLite store; back up PostgreSQL with pg_dump of its database "+
				"(the events and the read models together), KurrentDB with its own backup"))
		}
		return problems
	}); err != nil {
		return err
	}
	if err := sqliteStoreExists(c.sqlitePath()); err != nil {
		return err
	}
	c.makeDataPrivate()
	// A copy a killed backup left is as large as the history: a disk that
	// took one may not take two.
	stale, err := sqlite.RemoveStalePartials(*out)
	for _, p := range stale {
		fmt.Fprintf(stderr, "routefree: removed %s, the copy of an earlier backup to %s that stopped midway (killed)\n", p, *out)
	}
	if err != nil {
		return err
	}
	if err := sqlite.Backup(ctx, c.sqlitePath(), *out); err != nil {
		return err
	}
	// A copy is only a backup once it reads back whole.
	b, err := sqlite.Open(*out, sqlite.Options{})
	if err != nil {
		return fmt.Errorf("the backup %s does not open: %w", *out, err)
	}
	defer b.Close()
	res, err := eventstore.Verify(ctx, b, nil)
	if err != nil {
		return fmt.Errorf("the backup %s does not read back: %w", *out, err)
	}
	if res.Break != nil {
		return fmt.Errorf("the backup %s: hash chain broken at position %s", *out, res.Break.Position)
	}
	fmt.Fprintf(stdout, "backed up %d events to %s and verified them: chain head %x, last position %s\n", res.Events, *out, res.Head, res.Last)
	return nil
}

// progress prints a line to stderr at most once a second on long runs.
type progress struct {
	w     io.Writer
	verb  string
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, verb string) *progress {
	now := time.Now()
	return &progress{w: w, verb: verb, start: now, last: now}
}

func (p *progress) tick(n uint64) {
	if now := time.Now(); now.Sub(p.last) >= time.Second {
		p.last = now
		fmt.Fprintf(p.w, "%s %d events (%.0f/s)\n", p.verb, n, float64(n)/now.Sub(p.start).Seconds())
	}
}

func (p *progress) done(n uint64) {
	el := time.Since(p.start)
	fmt.Fprintf(p.w, "%s %d events in %s\n", p.verb, n, el.Round(time.Millisecond))
}
