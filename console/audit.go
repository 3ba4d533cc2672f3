package console

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// EventFilter selects events of the log: by stream, type and time (all
// optional), after a position.
type EventFilter struct {
	eventstore.Filter
	After eventstore.Position
	Limit int
}

func parsePosition(s string) (eventstore.Position, error) {
	if s == "" {
		return eventstore.Start, nil
	}
	c, p, ok := strings.Cut(s, "/")
	cv, err1 := strconv.ParseUint(c, 10, 64)
	pv, err2 := strconv.ParseUint(p, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return eventstore.Start, fmt.Errorf("position %s is not commit/prepare", domain.Quote(s))
	}
	return eventstore.Position{Commit: cv, Prepare: pv}, nil
}

// parseTime takes RFC 3339 or a Taipei date or datetime-local value.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, projections.Taipei); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %s is not RFC 3339 nor YYYY-MM-DD[THH:MM]", domain.Quote(s))
}

func filterFrom(q func(string) string) (EventFilter, error) {
	f := EventFilter{Filter: eventstore.Filter{Stream: strings.TrimSpace(q("stream")), Type: strings.TrimSpace(q("type"))}, Limit: 100}
	var err error
	if f.Since, err = parseTime(q("since")); err != nil {
		return f, err
	}
	if f.Until, err = parseTime(q("until")); err != nil {
		return f, err
	}
	if f.After, err = parsePosition(q("after")); err != nil {
		return f, err
	}
	// A filter that can match nothing by mistake would answer an empty
	// page or export that reads as a true one.
	if f.Type != "" && !domain.Known(f.Type) {
		return f, fmt.Errorf("event type %s does not exist", domain.Quote(f.Type))
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, fmt.Errorf("until %s must come after since %s", domain.Quote(q("until")), domain.Quote(q("since")))
	}
	// As every list of the API pages (internal/paging): a whole number of
	// at least 1, at most 1,000 an answer.
	if v := q("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, fmt.Errorf("limit must be a whole number, 1 or more (at most 1000 events an answer), not %s", domain.Quote(v))
		}
		f.Limit = min(n, 1000)
	}
	return f, nil
}

// maxScan bounds the events one page of the log reads, so a filter that
// matches little cannot make one request read all of history.
const maxScan = 200_000

// events returns a page of matching events and the position to continue
// after (Start when the log is exhausted).
func (s *server) events(ctx context.Context, f EventFilter) ([]commands.AuditedEvent, eventstore.Position, error) {
	out := []commands.AuditedEvent{}
	if f.Stream != "" {
		return s.streamEvents(ctx, f)
	}
	pos, scanned := f.After, 0
	for scanned < maxScan {
		evs, err := s.deps.Store.ReadAll(ctx, pos, 2000)
		if err != nil {
			return nil, eventstore.Start, err
		}
		if len(evs) == 0 {
			return out, eventstore.Start, nil
		}
		for i := range evs {
			pos = evs[i].Position
			if f.Match(&evs[i]) {
				out = append(out, commands.Audited(&evs[i]))
				if len(out) == f.Limit {
					return out, pos, nil
				}
			}
		}
		scanned += len(evs)
	}
	return out, pos, nil
}

// streamEvents is events for one stream: read directly, from the first
// event after the cursor, a chunk at a time, so that a long stream pages
// through its cursor like the whole log and a page holds only its own
// events.
func (s *server) streamEvents(ctx context.Context, f EventFilter) ([]commands.AuditedEvent, eventstore.Position, error) {
	out := []commands.AuditedEvent{}
	from, err := streamVersionAfter(ctx, s.deps.Store, f.Stream, f.After)
	if err != nil {
		return nil, eventstore.Start, err
	}
	pos := f.After
	for scanned := 0; scanned < maxScan; {
		evs, err := s.deps.Store.ReadStream(ctx, f.Stream, from, 2000)
		if errors.Is(err, eventstore.ErrStreamNotFound) || err == nil && len(evs) == 0 {
			return out, eventstore.Start, nil
		}
		if err != nil {
			return nil, eventstore.Start, err
		}
		for i := range evs {
			pos = evs[i].Position
			if f.After.Less(pos) && f.Match(&evs[i]) {
				out = append(out, commands.Audited(&evs[i]))
				if len(out) == f.Limit {
					return out, pos, nil
				}
			}
		}
		from = evs[len(evs)-1].Version + 1
		scanned += len(evs)
	}
	return out, pos, nil
}

// streamVersionAfter is the version of stream's first event after pos
// (positions grow with versions), found in a few reads of one event each
// rather than by reading the stream from its start.
func streamVersionAfter(ctx context.Context, store eventstore.Store, stream string, pos eventstore.Position) (uint64, error) {
	if pos == eventstore.Start {
		return 0, nil
	}
	// after(v): the event at v exists and lies after pos (or v is past the end).
	after := func(v uint64) (bool, error) {
		evs, err := store.ReadStream(ctx, stream, v, 1)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return len(evs) == 0 || pos.Less(evs[0].Position), nil
	}
	lo, hi := uint64(0), uint64(1)
	for {
		ok, err := after(hi)
		if err != nil {
			return 0, err
		}
		if ok {
			break
		}
		lo, hi = hi+1, hi*2
	}
	for lo < hi { // the first v in [lo, hi] with after(v)
		mid := lo + (hi-lo)/2
		ok, err := after(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

func (s *server) apiEvents(c echo.Context) error {
	f, err := filterFrom(c.QueryParam)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	evs, next, err := s.events(c.Request().Context(), f)
	if err != nil {
		return err
	}
	resp := map[string]any{"data": evs}
	if next != eventstore.Start {
		resp["next"] = next.String()
	}
	return c.JSON(http.StatusOK, resp)
}

// Verdict is the hash-chain check of the whole history.
type Verdict struct {
	OK     bool   `json:"ok"`
	Events uint64 `json:"events"`
	Head   string `json:"head"`
	Last   string `json:"last_position"`
	Break  string `json:"break,omitempty"`
}

func (s *server) verify(ctx context.Context) (Verdict, error) {
	// What the running read models applied, read before the chain: every
	// event they applied was in the store then, so a chain read after it
	// that ends sooner lost events (deleted, or the store put back from
	// an older copy), however well it links.
	applied := eventstore.Start
	if s.deps.Runner != nil {
		for _, at := range s.deps.Runner.Positions() {
			if applied.Less(at) {
				applied = at
			}
		}
	}
	res, err := eventstore.Verify(ctx, s.deps.Store, nil)
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{OK: res.Break == nil, Events: res.Events, Head: hex.EncodeToString(res.Head), Last: res.Last.String()}
	if res.Break != nil {
		v.Break = res.Break.Error()
	} else if res.Last.Less(applied) {
		v.OK = false
		v.Break = fmt.Sprintf("the store's head (position %s, %d events) is behind what the running read models applied (position %s): "+
			"events after position %s were deleted, or the store was put back from an older copy", res.Last, res.Events, applied, res.Last)
	}
	return v, nil
}

func (s *server) apiVerify(c echo.Context) error {
	v, err := s.verify(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": v})
}

// FigureRow compares one figure of the running projections with a replay.
type FigureRow struct {
	Figure string `json:"figure"` // balance, month, activity, keys, invoices
	Key    string `json:"key"`
	Live   string `json:"live"`
	Replay string `json:"replay"`
	Match  bool   `json:"match"`
}

// Comparison is the replay comparison an auditor reads.
type Comparison struct {
	Match  bool        `json:"match"`
	Events uint64      `json:"events"`
	Rows   []FigureRow `json:"rows"`
}

// replayed are a replay's figures at the positions where the live read
// models stood: the memory models' (balances, invoices) and each SQL
// model's, which another serve sharing them may have moved further.
type replayed struct{ memory, usage, activity, keys *projections.Figures }

// figures reads the live figures and replays the history to where each
// live read model stood when read, so that requests billed meanwhile (by
// this serve or another) are on neither side rather than on one.
func (s *server) figures(ctx context.Context) (*projections.Figures, replayed, error) {
	if s.deps.Runner == nil { // no running projections to stop: the whole history
		live, err := s.deps.Models.Figures(ctx)
		if err != nil {
			return nil, replayed{}, err
		}
		rep, err := projections.ReplayAt(ctx, s.deps.Store, nil, s.deps.now)
		return live, replayed{rep, rep, rep, rep}, err
	}
	at, live, err := s.deps.Models.LiveFigures(ctx, s.deps.Runner)
	if err != nil {
		return nil, replayed{}, err
	}
	// A SQL model's checkpoint behind at saw no request since it: its rows
	// are those of at.
	stops := []eventstore.Position{at, maxPosition(at, live.UsageAt), maxPosition(at, live.ActivityAt), maxPosition(at, live.KeyUsageAt)}
	reps, err := projections.ReplayThrough(ctx, s.deps.Store, s.deps.now, stops...)
	if err != nil {
		return nil, replayed{}, err
	}
	return live, replayed{reps[0], reps[1], reps[2], reps[3]}, nil
}

func maxPosition(a, b eventstore.Position) eventstore.Position {
	if a.Less(b) {
		return b
	}
	return a
}

func (s *server) compare(ctx context.Context) (Comparison, error) {
	live, rep, err := s.figures(ctx)
	if err != nil {
		return Comparison{}, err
	}
	// Invoices by month as the reconciliation and the lists count them.
	if f, ok := s.deps.Invoices.(Finance); ok && f != nil {
		if err := f.Sync(ctx); err != nil {
			return Comparison{}, err
		}
		live.CountInvoices(f.RecordMonth)
		rep.memory.CountInvoices(f.RecordMonth)
	}
	cmp := Comparison{Match: true, Events: rep.memory.Events}
	decRows := func(figure string, a, b map[string]decimal.Decimal) {
		keys := map[string]bool{}
		for k := range a {
			keys[k] = true
		}
		for k := range b {
			keys[k] = true
		}
		for _, k := range sortedSet(keys) {
			r := FigureRow{Figure: figure, Key: k, Live: a[k].String(), Replay: b[k].String(), Match: a[k].Equal(b[k])}
			cmp.Match = cmp.Match && r.Match
			cmp.Rows = append(cmp.Rows, r)
		}
	}
	decRows("balance", live.Balances, rep.memory.Balances)
	decRows("month", live.MonthlyTotals, rep.usage.MonthlyTotals)
	// The activity of the window by the live model's clock, and the usage
	// by key and app, when the live models have them.
	if live.ActivityFrom != "" {
		decRows("activity", keyFigures(live.Activity, false), keyFigures(rep.activity.Activity, false))
	}
	if live.KeyUsage != nil {
		decRows("keys", keyFigures(live.KeyUsage, true), keyFigures(rep.keys.KeyUsage, true))
	}
	keys := map[string]bool{}
	for k := range live.InvoiceTotals {
		keys[k] = true
	}
	for k := range rep.memory.InvoiceTotals {
		keys[k] = true
	}
	for _, k := range sortedSet(keys) {
		a, b := live.InvoiceTotals[k], rep.memory.InvoiceTotals[k]
		r := FigureRow{Figure: "invoices", Key: k, Live: strconv.FormatInt(a, 10), Replay: strconv.FormatInt(b, 10), Match: a == b}
		cmp.Match = cmp.Match && r.Match
		cmp.Rows = append(cmp.Rows, r)
	}
	return cmp, nil
}

// keyFigures keys figures by period, account, key and (with apps) app,
// quoted as a Go string.
func keyFigures(figs map[string]map[projections.KeyFigure]decimal.Decimal, apps bool) map[string]decimal.Decimal {
	out := map[string]decimal.Decimal{}
	for period, rows := range figs {
		for k, cost := range rows {
			key := period + " " + k.Account + " " + k.Key
			if apps {
				key += " " + strconv.Quote(k.App)
			}
			out[key] = cost
		}
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *server) apiFigures(c echo.Context) error {
	cmp, err := s.compare(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": cmp})
}

// apiExport streams the matching events as NDJSON, for the auditor's own
// tools: every stored field, hashes included, so the chain can be checked
// outside.
func (s *server) apiExport(c echo.Context) error {
	f, err := filterFrom(c.QueryParam)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	// A mistyped stream would match nothing, like an unknown type.
	if f.Stream != "" {
		if _, err := s.deps.Store.ReadStream(ctx, f.Stream, 0, 1); errors.Is(err, eventstore.ErrStreamNotFound) {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("stream %s does not exist: no event was ever appended to it", domain.Quote(f.Stream)))
		} else if err != nil {
			return err
		}
	}
	// The console's search too, so that the page's export link exports
	// what the page shows.
	needle := []byte(strings.ToLower(strings.TrimSpace(c.QueryParam("q"))))
	q := auditQuery{EventFilter: f}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="routefree-events.ndjson"`)
	w.WriteHeader(http.StatusOK)
	// Whole history: no filter nor search, and from the first event.
	exp := commands.NewExportWriter(w, f.Filter == eventstore.Filter{} && f.After == eventstore.Start && len(needle) == 0)
	pos := f.After
	for {
		evs, err := s.deps.Store.ReadAll(ctx, pos, 2000)
		if err != nil {
			// The status is sent; without its end record the download
			// reads back as cut short.
			return nil
		}
		if len(evs) == 0 {
			_ = exp.End()
			return nil
		}
		for i := range evs {
			if q.match(&evs[i], needle) {
				if err := exp.Write(&evs[i]); err != nil {
					return nil
				}
			}
		}
		pos = evs[len(evs)-1].Position
		w.Flush()
	}
}

// filtered reports whether the page of q shows less than every event.
func (q auditQuery) filtered() bool {
	return q.Filter != (eventstore.Filter{}) || strings.TrimSpace(q.Q) != ""
}

// exportURL is the audit API's export of what the page of q shows: its
// filter and search, every page of it.
func (q auditQuery) exportURL(since, until string) string {
	v := url.Values{}
	for k, s := range map[string]string{"stream": q.Stream, "type": q.Type, "since": since, "until": until, "q": strings.TrimSpace(q.Q)} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return "/admin/api/audit/export"
	}
	return "/admin/api/audit/export?" + v.Encode()
}

// auditLogScan bounds the events a filtered or searched page of the
// console's log reads: counting its matches means reading them all. Beyond
// the bound, newest first searches the newest auditLogScan events and oldest
// first the oldest, and the page says so (Truncated). An unfiltered page
// reads only its own events, whatever the history's length.
var auditLogScan = 2_000_000

// auditQuery is a page of the console's event log: the filter, a search in
// the stream, type and body (actors and account IDs included), the order.
type auditQuery struct {
	EventFilter
	Q      string
	Oldest bool // oldest first; the default is newest first
	Page   int  // 1-based
	Size   int
}

// auditMatch reports whether e passes the filter and the search.
func (q auditQuery) match(e *eventstore.RecordedEvent, needle []byte) bool {
	if !q.Match(e) {
		return false
	}
	if len(needle) == 0 {
		return true
	}
	return bytes.Contains(bytes.ToLower([]byte(e.Stream)), needle) || bytes.Contains(bytes.ToLower([]byte(e.Type)), needle) ||
		bytes.Contains(bytes.ToLower(e.Data), needle)
}

// auditLog returns one page of the log and the number of matching events.
// Without a filter or a search every event matches: the page is found by
// its number through the log index and only its events are read. With one,
// a pass over the window (see auditLogScan) notes where each match starts
// (16 bytes a match, never the events themselves), and a second read
// fetches the page's events from the position before its first. The pass
// is kept (scanCache): the next view with the same filter and search reads
// only the events appended since.
func (s *server) auditLog(ctx context.Context, q auditQuery) (page []commands.AuditedEvent, total int, truncated bool, err error) {
	needle := []byte(strings.ToLower(strings.TrimSpace(q.Q)))
	unfiltered := len(needle) == 0 && q.Filter == (eventstore.Filter{})
	if unfiltered && !q.Oldest && q.Page == 1 {
		if page, total, ok, err := s.newestPage(ctx, q.Size); ok || err != nil {
			return page, total, false, err
		}
	}
	count, err := s.log.refresh(ctx, s.deps.Store)
	if err != nil {
		return nil, 0, false, err
	}
	if unfiltered {
		from, to, ok := q.bounds(count)
		if !ok {
			return []commands.AuditedEvent{}, count, false, nil
		}
		pos, n := s.log.at(from)
		page, err = s.readPage(ctx, pos, to-from, from-n+to-from, func(*eventstore.RecordedEvent) bool {
			n++
			return n > from // skip from the mark to the page's first event
		})
		return q.ordered(page), count, false, err
	}
	// The window, events first to last-1: the newest auditLogScan events
	// newest first, the oldest oldest first. It starts at the mark at or
	// before its first event, so it may hold up to logStride-1 more.
	first, last := 0, count
	if count > auditLogScan {
		truncated = true
		if q.Oldest {
			last = auditLogScan
		} else {
			first = count - auditLogScan
		}
	}
	// A view seen before goes on from its last scan (see logScan).
	prev, first := s.log.at(first)
	key := q.scanKey(needle)
	sc := s.scans.take(key)
	if sc == nil || prev.Less(sc.from) || sc.scanned > last {
		sc = &logScan{key: key, from: prev, through: prev, scanned: first}
	} else {
		sc.trim(prev)
	}
	for sc.scanned < last {
		evs, err := s.deps.Store.ReadAll(ctx, sc.through, min(2000, last-sc.scanned))
		if err != nil {
			return nil, 0, false, err
		}
		if len(evs) == 0 {
			break
		}
		for i := range evs {
			if q.match(&evs[i], needle) {
				sc.starts = append(sc.starts, sc.through)
			}
			sc.through = evs[i].Position
		}
		sc.scanned += len(evs)
	}
	starts := sc.starts // never changed in place: safe once the scan is back
	s.scans.put(sc)
	total = len(starts)
	from, to, ok := q.bounds(total)
	if !ok {
		return []commands.AuditedEvent{}, total, truncated, nil
	}
	page, err = s.readPage(ctx, starts[from], to-from, 2000, func(e *eventstore.RecordedEvent) bool { return q.match(e, needle) })
	return q.ordered(page), total, truncated, err
}

// newestPage is the log's first view, its newest events, read from the
// store's end: it costs its page, where the log index reads the whole
// history on its first use. ok is false when the store cannot read
// backward (the index then finds the page).
func (s *server) newestPage(ctx context.Context, size int) (page []commands.AuditedEvent, total int, ok bool, err error) {
	br, can := s.deps.Store.(eventstore.BackwardReader)
	if !can {
		return nil, 0, false, nil
	}
	evs, err := br.ReadAllBackward(ctx, eventstore.End, size)
	if errors.Is(err, eventstore.ErrNoBackwardRead) {
		return nil, 0, false, nil
	}
	if err != nil || len(evs) == 0 {
		return []commands.AuditedEvent{}, 0, true, err
	}
	// Counted through the page's newest event, so that the count and the
	// page are of one history, whatever was appended between the reads.
	if total, err = br.CountThrough(ctx, evs[0].Position); err != nil {
		return nil, 0, true, err
	}
	page = make([]commands.AuditedEvent, len(evs))
	for i := range evs {
		page[i] = commands.Audited(&evs[i])
	}
	return page, total, true, nil
}

// bounds gives the page's matches as numbers oldest first, from (inclusive)
// to (exclusive), out of total; false past the end.
func (q auditQuery) bounds(total int) (from, to int, ok bool) {
	from = (q.Page - 1) * q.Size
	if from >= total {
		return 0, 0, false
	}
	to = min(from+q.Size, total)
	if !q.Oldest { // newest first, page 1 is the last
		from, to = total-to, total-from
	}
	return from, to, true
}

// ordered puts a page read oldest first in the order it is shown.
func (q auditQuery) ordered(page []commands.AuditedEvent) []commands.AuditedEvent {
	if !q.Oldest {
		slices.Reverse(page)
	}
	return page
}

// readPage reads from pos, oldest first, until it has size events that take
// says to take; batch is how many events to read at a time (at most 2,000).
func (s *server) readPage(ctx context.Context, pos eventstore.Position, size, batch int, take func(*eventstore.RecordedEvent) bool) ([]commands.AuditedEvent, error) {
	page := make([]commands.AuditedEvent, 0, size)
	batch = min(max(batch, 1), 2000)
	for len(page) < size {
		evs, err := s.deps.Store.ReadAll(ctx, pos, batch)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			break
		}
		for i := range evs {
			if len(page) < size && take(&evs[i]) {
				page = append(page, commands.Audited(&evs[i]))
			}
			pos = evs[i].Position
		}
	}
	return page, nil
}
