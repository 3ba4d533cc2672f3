package postgres

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/storetest"
	"github.com/routefree/routefree/internal/testenv"
)

// slowPause is how long a write transaction holds the chain's lock before
// COMMIT while SlowCommit is on: long enough that the contract's second
// instance appends while the first has not committed, and must wait for it.
const slowPause = 300 * time.Millisecond

func TestContract(t *testing.T) {
	var mu sync.Mutex
	slow := map[eventstore.Store]*atomic.Bool{}
	urls := map[eventstore.Store]string{}
	openOn := func(t *testing.T, url string) eventstore.Store {
		on := new(atomic.Bool)
		s := openAt(t, url, Options{BeforeCommit: func() {
			if on.Load() {
				time.Sleep(slowPause)
			}
		}})
		mu.Lock()
		defer mu.Unlock()
		slow[s], urls[s] = on, url
		return s
	}
	get := func(s eventstore.Store) (*atomic.Bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return slow[s], urls[s]
	}
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return openOn(t, testenv.PostgresURL(t))
	}, storetest.Features{
		Name:             "postgres",
		SlowCommit:       func(s eventstore.Store, on bool) { b, _ := get(s); b.Store(on) },
		MaxBatchRequests: func(s eventstore.Store) int { return int(s.(*Store).Stats().MaxBatchRequests) },
		Share: func(t *testing.T, s eventstore.Store) eventstore.Store {
			_, url := get(s)
			return openOn(t, url)
		},
	})
}
