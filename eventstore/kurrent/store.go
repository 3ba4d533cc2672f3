package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/routefree/routefree/eventstore"
)

// Store is the KurrentDB event store. It implements eventstore.Store.
type Store struct {
	db     *esdb.Client
	gc     *eventstore.GroupCommitter
	notify *eventstore.Notifier
	w      *writer
	opts   Options
	// floor is where ReadAll from Start begins: the end of $all at Open
	// when the store was empty then (nothing of it can lie before), else
	// Start.
	floor eventstore.Position
}

var (
	_ eventstore.Store      = (*Store)(nil)
	_ eventstore.HeadReader = (*Store)(nil)
)

// Open connects to the KurrentDB at connString (for example
// "esdb://127.0.0.1:2113?tls=false") and loads the hash-chain tip, so it
// fails early when the server cannot be reached.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("eventstore/kurrent: %w", err)
	}
	opts.setDefaults()
	cfg, err := esdb.ParseConnectionString(connString)
	if err != nil {
		return nil, fmt.Errorf("eventstore/kurrent: connection string: %w", err)
	}
	cfg.Logger = clientLogger(opts.Logger)
	db, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("eventstore/kurrent: %w", err)
	}
	s := &Store{db: db, notify: eventstore.NewNotifier(), opts: opts}
	s.w = &writer{db: db, log: opts.Logger, ns: opts.Namespace, heads: make(map[string]uint64), ids: newIDWindow(opts.IDWindow)}
	if err := s.w.loadTip(ctx, eventstore.Start); err != nil {
		db.Close()
		return nil, fmt.Errorf("eventstore/kurrent: load hash-chain tip: %w", err)
	}
	if s.w.empty {
		s.floor = s.w.end
	}
	s.gc = eventstore.NewGroupCommitter(s.writeBatch, opts.MaxBatch)
	return s, nil
}

// clientLogger hands the client's log lines to slog. The client logs every
// failed call at error level, including ones this package answers (a
// missing stream), so they go out at debug and warn.
func clientLogger(l *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		lv := slog.LevelDebug
		if level == esdb.LogWarn || level == esdb.LogError {
			lv = slog.LevelWarn
		}
		l.Log(context.Background(), lv, "kurrentdb client: "+fmt.Sprintf(format, args...))
	}
}

// Append adds events to a stream. Concurrent appends are queued to the one
// writer, which writes them in order and chains their hashes.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	return s.gc.Append(ctx, stream, expected, events...)
}

// Close writes the queued appends, then closes the connection.
func (s *Store) Close() error {
	s.gc.Close()
	s.notify.Notify()
	return s.db.Close()
}

// SubscribeAll delivers every event after from, history first, by polling
// ReadAll; this process's appends wake it at once.
func (s *Store) SubscribeAll(ctx context.Context, from eventstore.Position) (*eventstore.Subscription, error) {
	return eventstore.Poll(ctx, s, from, eventstore.PollOptions{Interval: s.opts.PollInterval, Wake: s.notify}), nil
}

// readPage is how many $all records one read asks for.
const readPage = 4096

// headPage is the page of LastPosition's backward reads (a variable for
// its test).
var headPage uint64 = readPage

// ReadAll returns up to max events after from (max <= 0: all), in global
// order, without KurrentDB's system events and other namespaces' events. $all is in commit order, so no
// event can later appear before one returned.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	if from == eventstore.Start {
		from = s.floor
	}
	after, skip := from, from != eventstore.Start
	for {
		// A read from a position includes the event there, hence the +1.
		page := uint64(readPage)
		if max > 0 && max-len(out)+1 < readPage {
			page = uint64(max - len(out) + 1)
		}
		n, err := s.readAllPage(ctx, after, skip, page, func(e *esdb.RecordedEvent) bool {
			after, skip = position(e.Position), true
			if ours(e, s.opts.Namespace) {
				out = append(out, fromRecorded(e, s.opts.Namespace))
			}
			return max <= 0 || len(out) < max
		})
		if err != nil {
			return nil, err
		}
		if n < page || (max > 0 && len(out) >= max) {
			return out, nil
		}
	}
}

// readAllPage reads up to page records of $all from position from (from
// itself skipped when skip), calling f for each until f returns false. It
// returns how many records the server sent, counting a skipped one.
func (s *Store) readAllPage(ctx context.Context, from eventstore.Position, skip bool, page uint64, f func(*esdb.RecordedEvent) bool) (uint64, error) {
	start := esdb.AllPosition(esdb.Start{})
	if skip {
		start = allPosition(from)
	}
	rs, err := s.db.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: start}, page)
	if err != nil {
		return 0, readError(err, "$all")
	}
	defer rs.Close()
	var n uint64
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, readError(err, "$all")
		}
		n++
		e := ev.OriginalEvent()
		if e == nil || (skip && !from.Less(position(e.Position))) {
			continue // the start position is exclusive
		}
		if !f(e) {
			return page, nil // the caller has enough
		}
	}
}

// LastPosition is the position of the store's last event, found by
// reading $all backwards from its end to the first event of the store's
// namespace: other stores' events after it are read and passed over, a
// page at a time, and the read stops at the store's floor. It makes the
// store an eventstore.HeadReader, so that finding the head does not read
// the history forwards.
func (s *Store) LastPosition(ctx context.Context) (eventstore.Position, error) {
	var from esdb.AllPosition = esdb.End{}
	var prev eventstore.Position // the last record read; Start before any
	for {
		rs, err := s.db.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, headPage)
		if err != nil {
			return eventstore.Start, readError(err, "$all")
		}
		n, found, done, start := uint64(0), eventstore.Start, false, prev
		for !done {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return eventstore.Start, readError(err, "$all")
			}
			n++
			e := ev.OriginalEvent()
			if e == nil {
				continue
			}
			p := position(e.Position)
			switch {
			case prev != eventstore.Start && !p.Less(prev):
				// the page's start, already read on the page before
			case s.floor != eventstore.Start && !s.floor.Less(p):
				done = true // back at the floor: nothing of the store after it
			case ours(e, s.opts.Namespace):
				found, done = p, true
			default:
				prev = p
			}
		}
		rs.Close()
		if found != eventstore.Start || done || n < headPage {
			return found, nil
		}
		if prev == start {
			return eventstore.Start, errors.New("eventstore/kurrent: reading $all backwards made no progress")
		}
		from = allPosition(prev)
	}
}

// ReadStream returns up to max events of stream from version from on (max
// <= 0: all). A stream with no events gives ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	count := uint64(math.MaxInt64)
	if max > 0 {
		count = uint64(max)
	}
	rs, err := s.db.ReadStream(ctx, s.opts.Namespace+stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(from)}, count)
	if err != nil {
		return nil, readError(err, stream)
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, readError(err, stream)
		}
		if e := ev.OriginalEvent(); e != nil {
			out = append(out, fromRecorded(e, s.opts.Namespace))
		}
	}
}
