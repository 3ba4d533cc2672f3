package console

import (
	"fmt"
	"sort"
	"sync"

	"github.com/routefree/routefree/eventstore"
)

// scanCacheStarts bounds the matches the scan cache holds, all views
// together (16 bytes each: 16 MiB); a view with more is not kept.
var scanCacheStarts = 1 << 20

// scanCacheViews bounds the views the scan cache holds.
const scanCacheViews = 16

// logScan is what a pass over the event log found for one filtered or
// searched view: the position before each match, from the window's first
// mark through the last event read. The history only grows, so a later
// view of the same filter and search reads only the events appended since,
// and paging through it reads only its pages.
type logScan struct {
	key     string
	from    eventstore.Position   // the mark the scan started after
	through eventstore.Position   // the last event read
	scanned int                   // events of the history up to through
	starts  []eventstore.Position // position before each match, in order
}

// scanCache keeps the scans of recent views, least recently used first.
type scanCache struct {
	mu    sync.Mutex
	scans []*logScan
	held  int // starts held, all scans
}

// take removes and returns the scan kept under key, if any: a view owns
// its scan while it extends it, and gives it back with put.
func (c *scanCache) take(key string) *logScan {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.scans {
		if s.key == key {
			c.scans = append(c.scans[:i], c.scans[i+1:]...)
			c.held -= len(s.starts)
			return s
		}
	}
	return nil
}

// put keeps s as the most recently used scan, dropping the least recently
// used ones beyond the bounds; a scan larger than the bound is not kept.
func (c *scanCache) put(s *logScan) {
	if len(s.starts) > scanCacheStarts {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, o := range c.scans { // a concurrent view of the same key put one back first
		if o.key == s.key {
			c.scans = append(c.scans[:i], c.scans[i+1:]...)
			c.held -= len(o.starts)
			break
		}
	}
	for len(c.scans) > 0 && (len(c.scans) >= scanCacheViews || c.held+len(s.starts) > scanCacheStarts) {
		c.held -= len(c.scans[0].starts)
		c.scans = c.scans[1:]
	}
	c.scans = append(c.scans, s)
	c.held += len(s.starts)
}

// scanKey names a view's matches: its filter, its search and its order
// (which chooses the window once the history outgrows auditLogScan).
func (q auditQuery) scanKey(needle []byte) string {
	f := q.Filter
	return fmt.Sprintf("%q %q %d %d %q %v", f.Stream, f.Type, f.Since.UnixNano(), f.Until.UnixNano(), needle, q.Oldest)
}

// trim drops the matches before the mark at pos (a window that moved on
// as the history grew), releasing their memory once they are most of it.
func (s *logScan) trim(pos eventstore.Position) {
	i := sort.Search(len(s.starts), func(i int) bool { return !s.starts[i].Less(pos) })
	if i == 0 {
		return
	}
	if i > len(s.starts)/2 {
		s.starts = append([]eventstore.Position(nil), s.starts[i:]...)
	} else {
		s.starts = s.starts[i:]
	}
	s.from = pos
}
