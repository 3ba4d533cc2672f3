package projections

import (
	"bytes"
	"context"

	"github.com/routefree/routefree/eventstore"
)

// Chain checks the hash chain as events flow by, as eventstore.Verify does,
// so a replay reads the history once for both.
type Chain struct {
	memCheckpoint
	res      eventstore.VerifyResult
	events   uint64
	progress func(n uint64)
}

var _ Projection = (*Chain)(nil)

// NewChain returns a chain check from position zero; progress, when set, is
// called after each batch with the events seen so far.
func NewChain(progress func(n uint64)) *Chain { return &Chain{progress: progress} }

// Name implements Projection.
func (c *Chain) Name() string { return "chain" }

// Result is the verdict so far and the number of events seen.
func (c *Chain) Result() (eventstore.VerifyResult, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.res, c.events
}

// Apply implements Projection.
func (c *Chain) Apply(_ context.Context, batch []Event) error {
	batch = c.fresh(batch)
	c.mu.Lock()
	for i := range batch {
		e := &batch[i].RecordedEvent
		c.events++
		if c.res.Break != nil {
			continue
		}
		switch {
		case !bytes.Equal(e.PrevHash, c.res.Head):
			c.res.Break = &eventstore.ChainBreak{Position: e.Position, Stream: e.Stream, Version: e.Version, Reason: "previous hash does not match its predecessor"}
		case !bytes.Equal(e.Hash, eventstore.ChainHash(c.res.Head, e)):
			c.res.Break = &eventstore.ChainBreak{Position: e.Position, Stream: e.Stream, Version: e.Version, Reason: "content does not match its hash"}
		default:
			c.res.Events++
			c.res.Head = e.Hash
			c.res.Last = e.Position
		}
	}
	n := c.events
	c.mu.Unlock()
	c.done(batch)
	if c.progress != nil {
		c.progress(n)
	}
	return nil
}
