package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// goMemoryBudget is the Go runtime's share of the design's 200 MB resident
// budget: the rest is the binary's code and data that the process touches
// (31–34 MB measured with 100,000 accounts), SQLite's page caches, which
// live outside the Go heap, and a margin of about 20 MB. It sits a fifth
// above the live heap of a first start with 100,000 keys and accounts
// (99 MiB, scripts/memory.sh): room for what reading the history holds
// besides the read models, without the collector running back to back.
const goMemoryBudget = 120 << 20

// keepMemoryLimit sets the Go runtime's soft memory limit until ctx ends,
// unless GOMEMLIMIT set one. Most of the gateway's heap is its read models,
// which live as long as the process: the default policy (GOGC=100) lets the
// heap grow to twice that before collecting, which alone breaks the budget.
// The limit makes the collector run earlier only near the budget, and it
// stays a quarter above the live heap, so a history too large for the
// budget costs at most a few times the default collector's CPU, never a
// collector running without pause.
//
// Under the limit the collector may also wait longer (GOGC=400 unless GOGC
// is set): a small gateway's heap is mostly short-lived request garbage,
// and collecting it at twice a 40 MB live heap spent a sixth of the CPU at
// 64 clients; the limit, not GOGC, then decides when memory is reclaimed.
func keepMemoryLimit(ctx context.Context) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	prevGC := -2 // not changed
	if os.Getenv("GOGC") == "" {
		prevGC = debug.SetGCPercent(400)
	}
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := func() {
		metrics.Read(live)
		n := int64(0)
		if live[0].Value.Kind() == metrics.KindUint64 {
			n = int64(live[0].Value.Uint64())
		}
		debug.SetMemoryLimit(max(goMemoryBudget, n+n/4))
	}
	prev := debug.SetMemoryLimit(-1) // a negative limit only reads the current one
	set()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				if prevGC != -2 {
					debug.SetGCPercent(prevGC)
				}
				debug.SetMemoryLimit(prev) // last: a restored limit means both are back
				return
			case <-t.C:
				set()
			}
		}
	}()
}
