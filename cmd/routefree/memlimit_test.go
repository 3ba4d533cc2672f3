package main

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

// Serving sets a memory limit of at least the Go budget and GOGC=400 when
// the environment sets neither, and puts both back when it stops.
func TestMemoryLimitSetAndRestored(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	limit0 := debug.SetMemoryLimit(-1)
	gc0 := debug.SetGCPercent(100)
	defer debug.SetGCPercent(gc0)
	defer debug.SetMemoryLimit(limit0)
	debug.SetMemoryLimit(1 << 62)

	ctx, cancel := context.WithCancel(context.Background())
	keepMemoryLimit(ctx)
	if got := debug.SetMemoryLimit(-1); got < goMemoryBudget || got >= 1<<62 {
		t.Fatalf("memory limit %d, want at least %d", got, goMemoryBudget)
	}
	if got := debug.SetGCPercent(400); got != 400 {
		t.Fatalf("GOGC %d, want 400", got)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) != 1<<62 {
		if time.Now().After(deadline) {
			t.Fatal("the memory limit was not restored")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC %d after stop, want 100 back", got)
	}
}
