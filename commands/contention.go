package commands

import (
	"context"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/routefree/routefree/eventstore"
)

// topUpAttempts bounds how often a top-up decides again after another
// landed first on its account's stream.
const topUpAttempts = 20

// decideAgain runs decide, which reads a stream and appends at the version
// it read, again after a short wait each time another writer's append (a
// customer's change, another process's command) lands in between: the
// decision is made anew on the newer state rather than refused with a
// "wrong expected version" that nobody can act on.
func decideAgain(ctx context.Context, decide func() error) error {
	var err error
	for attempt := 0; attempt < topUpAttempts; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		if err = decide(); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return err
		}
	}
	return err
}

// backoff waits before attempt (1, 2, …): a random time up to a bound that
// doubles from 2 ms to at most 100 ms, so that writers that collided do
// not collide again in step.
func backoff(ctx context.Context, attempt int) error {
	bound := min(2*time.Millisecond<<min(attempt-1, 6), 100*time.Millisecond)
	t := time.NewTimer(time.Duration(rand.Int64N(int64(bound))) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// stripedLocks serialises work on one stream within the process: a
// stream's name picks one of a fixed set of mutexes (two streams may share
// one, which only makes them take turns).
type stripedLocks [64]sync.Mutex

var streamLocks stripedLocks

// lock takes stream's mutex and returns its release.
func (l *stripedLocks) lock(stream string) func() {
	h := fnv.New32a()
	h.Write([]byte(stream))
	m := &l[h.Sum32()%uint32(len(l))]
	m.Lock()
	return m.Unlock
}
