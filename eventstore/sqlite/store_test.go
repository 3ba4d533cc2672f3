package sqlite_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/eventstore/storetest"
)

func openTemp(t testing.TB, opts sqlite.Options) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := sqlite.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

// TestContract runs the contract suite, with Share opening a second store on
// the same file: two stores in one process are what two processes are.
func TestContract(t *testing.T) {
	var mu sync.Mutex
	paths := map[eventstore.Store]string{}
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, path := openTemp(t, sqlite.Options{})
		mu.Lock()
		paths[s] = path
		mu.Unlock()
		return s
	}, storetest.Features{
		Name: "sqlite",
		SlowCommit: func(s eventstore.Store, on bool) {
			d := time.Duration(0)
			if on {
				// Long enough that the other store of the out-of-order case
				// appends while this one holds the write lock, and waits.
				d = 300 * time.Millisecond
			}
			s.(*sqlite.Store).SetCommitDelay(d)
		},
		MaxBatchRequests: func(s eventstore.Store) int { return s.(*sqlite.Store).Stats().MaxBatchRequests },
		Share: func(t *testing.T, s eventstore.Store) eventstore.Store {
			mu.Lock()
			path := paths[s]
			mu.Unlock()
			return openShared(t, path)
		},
	})
}

// A data directory whose name holds URI syntax opens the file it names.
func TestPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "seed#0?x=1%41")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "events.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the store is not at %s: %v", path, err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "seed*")); len(m) != 1 {
		t.Fatalf("files beside the directory: %v", m)
	}
}
