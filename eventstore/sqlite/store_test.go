package sqlite_test

import (
	"path/filepath"
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

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, _ := openTemp(t, sqlite.Options{})
		return s
	}, storetest.Features{
		Name: "sqlite",
		SlowCommit: func(s eventstore.Store, on bool) {
			d := time.Duration(0)
			if on {
				d = 20 * time.Millisecond
			}
			s.(*sqlite.Store).SetCommitDelay(d)
		},
		MaxBatchRequests: func(s eventstore.Store) int { return s.(*sqlite.Store).Stats().MaxBatchRequests },
	})
}
