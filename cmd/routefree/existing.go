package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// eventCount counts the events in the store, for serve's first words: it
// is an in-memory projection, so it sees the whole history at every start.
type eventCount struct {
	mu  sync.Mutex
	pos eventstore.Position
	n   int64
}

func (c *eventCount) Name() string { return "event-count" }

func (c *eventCount) Checkpoint(context.Context) (eventstore.Position, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos, nil
}

func (c *eventCount) Apply(_ context.Context, batch []projections.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range batch {
		if c.pos.Less(batch[i].Position) {
			c.n++
			c.pos = batch[i].Position
		}
	}
	return nil
}

func (c *eventCount) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// tellExisting tells someone starting serve on a store that already holds
// a history (the ./data of an earlier run, say) where they are: what the
// store holds, that the demo key and the first admin token were printed
// only when it was new, and how to get new ones. A new store says nothing
// here: its first start prints the keys themselves.
func (in *instance) tellExisting(w io.Writer, events int64) {
	if events == 0 {
		return
	}
	where := in.cfg.Store + " store"
	if in.cfg.Store == "sqlite" {
		where = "store " + in.cfg.sqlitePath()
	}
	fmt.Fprintf(w, "opened the existing %s: %d events, %d accounts, %d API keys, %d staff tokens\n",
		where, events, len(in.views.Accounts()), in.models.Keys.Len(), len(in.views.StaffTokens()))
	fmt.Fprintln(w, "  the demo key and the first admin token were printed when this store was new, and are not shown again;")
	fmt.Fprintln(w, "  a new API key:     routefree keys issue --account acct_demo   (or another account's ID)")
	fmt.Fprintln(w, "  a new admin token: routefree staff issue --role admin          (or set ROUTEFREE_ADMIN_TOKEN)")
	fmt.Fprintln(w, "  a fresh start:     serve --data-dir with an empty directory, or move this one away")
}
