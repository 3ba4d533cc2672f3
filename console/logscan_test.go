package console

import (
	"fmt"
	"testing"

	"github.com/routefree/routefree/eventstore"
)

// The scan cache keeps at most scanCacheViews views and scanCacheStarts
// matches, dropping the least recently used first, and never a view larger
// than the bound.
func TestScanCacheBounds(t *testing.T) {
	defer func(n int) { scanCacheStarts = n }(scanCacheStarts)
	scanCacheStarts = 100
	scan := func(key string, n int) *logScan {
		return &logScan{key: key, starts: make([]eventstore.Position, n)}
	}
	var c scanCache
	c.put(scan("a", 40))
	c.put(scan("b", 40))
	if c.take("a") == nil { // a is now the most recently used
		t.Fatal("a was not kept")
	}
	c.put(scan("a", 40))
	c.put(scan("c", 40)) // 120 > 100: b, the least recently used, goes
	if c.take("b") != nil || c.held != 80 {
		t.Fatalf("b kept, or %d matches held, want 80", c.held)
	}
	c.put(scan("big", 101))
	if c.take("big") != nil || c.held != 80 {
		t.Fatalf("a view over the bound was kept (%d held)", c.held)
	}
	for i := range scanCacheViews + 3 {
		c.put(scan(fmt.Sprint("v", i), 1))
	}
	if len(c.scans) != scanCacheViews || c.take("a") != nil || c.take(fmt.Sprint("v", scanCacheViews+2)) == nil {
		t.Fatalf("%d views kept, want %d, the newest among them", len(c.scans), scanCacheViews)
	}
	held := 0
	for _, s := range c.scans {
		held += len(s.starts)
	}
	if held != c.held {
		t.Fatalf("held %d, counted %d", c.held, held)
	}
}
