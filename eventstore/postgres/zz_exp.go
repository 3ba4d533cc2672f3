package postgres

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/routefree/routefree/eventstore"
)

type xreq struct {
	r    eventstore.AppendRequest
	done chan struct{}
}

type xCommitter struct {
	write  eventstore.BatchWriter
	in     chan *xreq
	wg     sync.WaitGroup
	stop   chan struct{}
	linger time.Duration
}

func xNew(w eventstore.BatchWriter, linger time.Duration) *xCommitter {
	g := &xCommitter{write: w, in: make(chan *xreq, 4096), stop: make(chan struct{}), linger: linger}
	g.wg.Add(1)
	go g.loop()
	return g
}

func (g *xCommitter) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	r := &xreq{r: eventstore.AppendRequest{Stream: stream, Expected: expected, Events: events}, done: make(chan struct{})}
	g.in <- r
	<-r.done
	return r.r.Result, r.r.Err
}

func (g *xCommitter) Close() { close(g.stop); g.wg.Wait() }

func (g *xCommitter) loop() {
	defer g.wg.Done()
	last := 0
	for {
		var first *xreq
		select {
		case first = <-g.in:
		case <-g.stop:
			return
		}
		batch := []*xreq{first}
		deadline := time.Now().Add(g.linger)
		for {
			select {
			case r := <-g.in:
				batch = append(batch, r)
				continue
			default:
			}
			if len(batch) >= last || g.linger == 0 || time.Now().After(deadline) {
				break
			}
			runtime.Gosched()
		}
		last = len(batch)
		rs := make([]*eventstore.AppendRequest, len(batch))
		for i, r := range batch {
			rs[i] = &r.r
		}
		err := g.write(context.Background(), rs)
		for _, r := range batch {
			if err != nil {
				r.r.Err = err
			}
			close(r.done)
		}
	}
}

var phaseMu sync.Mutex
var phases [4]time.Duration

func phase(a, b, c time.Duration) {
	phaseMu.Lock()
	phases[0] += a
	phases[1] += b
	phases[2] += c
	phases[3]++
	phaseMu.Unlock()
}
