package projections

import (
	"context"

	"github.com/routefree/routefree/eventstore"
)

// Chain checks the hash chain as events flow by, as eventstore.Verify does,
// so a replay reads the history once for both.
type Chain struct {
	memCheckpoint
	check    eventstore.ChainCheck
	events   uint64
	progress func(n uint64)
}

// NewChain returns a chain check from position zero; progress, when set, is
// called after each batch with the events seen so far.
func NewChain(progress func(n uint64)) *Chain { return &Chain{progress: progress} }

// Name implements Projection.
func (c *Chain) Name() string { return "chain" }

// Result is the verdict so far and the number of events seen.
func (c *Chain) Result() (eventstore.VerifyResult, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.check.Result, c.events
}

// Apply implements Projection.
func (c *Chain) Apply(_ context.Context, batch []Event) error {
	batch = c.fresh(batch)
	c.mu.Lock()
	for i := range batch {
		c.events++
		c.check.Next(&batch[i].RecordedEvent)
	}
	n := c.events
	c.mu.Unlock()
	c.done(batch)
	if c.progress != nil {
		c.progress(n)
	}
	return nil
}
