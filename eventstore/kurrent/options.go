package kurrent

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// MaxBatch caps the events one group commit takes (default 500). The
	// requests of a batch are written one after another, so a larger batch
	// only saves queueing, not round trips.
	MaxBatch int
	// PollInterval is how often subscriptions look for events appended by
	// other processes (default 200ms); this process's appends wake them at
	// once.
	PollInterval time.Duration
	// Namespace, when set, prefixes every stream name on the server, and the
	// store sees only its own streams in $all: several RouteFree
	// environments (or tests) can share one KurrentDB, each with its own
	// history and hash chain. Callers use and read back unprefixed names.
	Namespace string
	// IDWindow is how many recent event IDs the writer remembers (and reads
	// back at Open) to store an ID once across streams (default 100,000;
	// negative: none, leaving only KurrentDB's per-stream idempotency).
	IDWindow int
	// Logger receives the client's and the writer's messages (default
	// slog.Default()).
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.MaxBatch == 0 {
		o.MaxBatch = 500
	}
	if o.PollInterval == 0 {
		o.PollInterval = 200 * time.Millisecond
	}
	if o.IDWindow == 0 {
		o.IDWindow = 100_000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports every problem with the options at once.
func (o Options) Validate() error {
	var errs []error
	if o.MaxBatch < 0 {
		errs = append(errs, fmt.Errorf("MaxBatch must not be negative (got %d)", o.MaxBatch))
	}
	if o.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("PollInterval must not be negative (got %s)", o.PollInterval))
	}
	if len(o.Namespace) > 0 && o.Namespace[0] == '$' {
		errs = append(errs, fmt.Errorf("Namespace must not start with '$', KurrentDB's system prefix (got %q)", o.Namespace))
	}
	return errors.Join(errs...)
}
