package projections

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/routefree/routefree/eventstore"
)

// maxMessageEvents caps the events one message carries. Big batches make a
// replay fast (a SQL model writes each touched row once per batch); live
// traffic gives small ones anyway.
const maxMessageEvents = 32_000

// batchKey carries a message's events in its context: the payload only names
// the position range, so nothing is encoded twice.
type batchKey struct{}

// BatchOf returns the events a Runner's message carries.
func BatchOf(msg *message.Message) []Event {
	b, _ := msg.Context().Value(batchKey{}).([]Event)
	return b
}

// batchRange is a message's payload.
type batchRange struct {
	From   eventstore.Position `json:"from"` // exclusive
	To     eventstore.Position `json:"to"`   // last event's position
	Events int                 `json:"events"`
}

// subscriber is the watermill Subscriber of one projection. The Runner's feed
// reads the store once (eventstore.Store.SubscribeAll) and hands each
// subscriber the decoded batches past its own checkpoint; the subscriber
// sends one message at a time and waits for its Ack, which advances the
// projection's position, or its Nack, which sends the batch again.
type subscriber struct {
	name    string
	from    eventstore.Position // the projection's checkpoint at start
	queue   chan []Event        // from the feed; closed at the end of history in catch-up mode
	onAck   func(eventstore.Position)
	onNack  func() bool // true: stop (catch-up mode fails fast)
	logger  watermill.LoggerAdapter
	cancel  context.CancelFunc
	done    chan struct{}
	closeMu sync.Once
}

var _ message.Subscriber = (*subscriber)(nil)

// queueBatches is how far the feed may run ahead of a projection. While
// history is read each batch holds thousands of decoded events, so a slow
// projection would otherwise keep a good part of the history in memory; a
// few batches keep the feed and the projections busy side by side.
const queueBatches = 4

func newSubscriber(name string, from eventstore.Position, onAck func(eventstore.Position), onNack func() bool, logger watermill.LoggerAdapter) *subscriber {
	return &subscriber{
		name: name, from: from, queue: make(chan []Event, queueBatches),
		onAck: onAck, onNack: onNack, logger: logger, done: make(chan struct{}),
	}
}

// Subscribe starts delivering; the topic is informational (the projection).
func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	ctx, s.cancel = context.WithCancel(ctx)
	out := make(chan *message.Message)
	go func() {
		defer close(s.done)
		defer close(out)
		pos := s.from
		for {
			batch, ok := s.next(ctx)
			if !ok {
				return
			}
			if !s.deliver(ctx, out, pos, batch) {
				return
			}
			pos = batch[len(batch)-1].Position
		}
	}()
	return out, nil
}

// next takes one queued batch and coalesces whatever else is already queued.
func (s *subscriber) next(ctx context.Context) ([]Event, bool) {
	var first []Event
	select {
	case <-ctx.Done():
		return nil, false
	case b, ok := <-s.queue:
		if !ok {
			return nil, false
		}
		first = b
	}
	if len(s.queue) == 0 || len(first) >= maxMessageEvents {
		return first, true
	}
	batch := append(make([]Event, 0, 2*len(first)), first...) // grows as needed
	for len(batch) < maxMessageEvents {
		select {
		case b, ok := <-s.queue:
			if !ok {
				return batch, true // the close is seen again by the next call
			}
			batch = append(batch, b...)
			continue
		default:
		}
		break
	}
	return batch, true
}

// deliver sends a batch until it is acked; false means stop.
func (s *subscriber) deliver(ctx context.Context, out chan<- *message.Message, from eventstore.Position, batch []Event) bool {
	last := batch[len(batch)-1].Position
	payload, _ := json.Marshal(batchRange{From: from, To: last, Events: len(batch)})
	backoff := 50 * time.Millisecond
	for {
		msg := message.NewMessage(watermill.NewUUID(), payload)
		msg.Metadata.Set("projection", s.name)
		msg.SetContext(context.WithValue(ctx, batchKey{}, batch))
		select {
		case out <- msg:
		case <-ctx.Done():
			return false
		}
		select {
		case <-msg.Acked():
			s.onAck(last)
			return true
		case <-msg.Nacked():
		case <-ctx.Done():
			return false
		}
		if s.onNack() {
			return false
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return false
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// Close ends the subscription and waits for its goroutine.
func (s *subscriber) Close() error {
	s.closeMu.Do(func() {
		if s.cancel != nil {
			s.cancel()
			<-s.done
		}
	})
	return nil
}
