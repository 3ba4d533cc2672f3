package kurrent

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/storetest"
	"github.com/routefree/routefree/internal/testenv"
)

// openContract opens, for each contract case, a store in a fresh namespace
// on the server at url: an empty history of its own, as Run requires.
func openContract(url string) func(t *testing.T) eventstore.Store {
	return func(t *testing.T) eventstore.Store {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := Open(ctx, url, Options{
			Namespace:    "rftest-" + testenv.Suffix() + "-",
			PollInterval: 20 * time.Millisecond,
			Logger:       slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

// TestContractFake runs the contract suite against the protocol fake. It
// checks the adapter (chaining, filtering, positions, idempotency, errors),
// not KurrentDB's semantics; TestContractKurrentDB does that.
func TestContractFake(t *testing.T) {
	f := startFake(t)
	storetest.Run(t, openContract(f.ConnString()), storetest.Features{Name: "kurrent (protocol fake)"})
}

// TestContractKurrentDB runs the contract suite against a real KurrentDB
// (ROUTEFREE_KURRENTDB_URL, e.g. esdb://127.0.0.1:2113?tls=false from the
// repository's docker-compose.yml); each case gets its own namespace.
func TestContractKurrentDB(t *testing.T) {
	url := testenv.KurrentURL(t)
	storetest.Run(t, openContract(url), storetest.Features{Name: "kurrent"})
}
