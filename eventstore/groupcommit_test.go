package eventstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// recorder is a BatchWriter that counts the appends and batches it wrote
// and can be held inside a write.
type recorder struct {
	mu      sync.Mutex
	batches []int
	events  map[uuid.UUID]int
	hold    chan struct{} // when set, a write waits for it to close
	inWrite chan struct{} // when set, signalled at the start of a write
	writing atomic.Int32
	overlap atomic.Bool
}

func (r *recorder) write(_ context.Context, batch []*AppendRequest) error {
	if r.writing.Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer r.writing.Add(-1)
	if r.inWrite != nil {
		r.inWrite <- struct{}{}
	}
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, len(batch))
	for _, a := range batch {
		for _, e := range a.Events {
			r.events[e.ID]++
		}
		a.Result = AppendResult{NextExpectedVersion: uint64(len(a.Events))}
	}
	return nil
}

func event() EventData { return EventData{ID: uuid.New(), Type: "t", Data: []byte("{}")} }

// Alone or in a crowd, every append is written exactly once, writes never
// overlap (a lone caller writing its own append and the writer goroutine
// take turns), and a crowd still shares batches.
func TestGroupCommitLoneAndCrowded(t *testing.T) {
	rec := &recorder{events: map[uuid.UUID]int{}}
	g := NewGroupCommitter(rec.write, 0)
	defer g.Close()
	ctx := context.Background()
	for range 20 {
		if _, err := g.Append(ctx, "s", Any(), event()); err != nil {
			t.Fatal(err)
		}
	}
	rec.hold = make(chan struct{}) // the crowd gathers behind a slow write
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.Append(ctx, "s", Any(), event()); err != nil {
				t.Error(err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(rec.hold)
	wg.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 220 {
		t.Fatalf("%d distinct events written, want 220", len(rec.events))
	}
	for id, n := range rec.events {
		if n != 1 {
			t.Fatalf("event %s written %d times", id, n)
		}
	}
	if rec.overlap.Load() {
		t.Fatal("two batches were written at the same time")
	}
	most := 0
	for _, b := range rec.batches {
		most = max(most, b)
	}
	if most < 2 {
		t.Fatalf("concurrent appends never shared a batch: %v", rec.batches)
	}
}

// Close waits for a lone caller's write in progress, and later appends fail
// with ErrClosed.
func TestGroupCommitCloseWaitsForLoneWriter(t *testing.T) {
	rec := &recorder{events: map[uuid.UUID]int{}}
	g := NewGroupCommitter(rec.write, 0)
	ctx := context.Background()
	if _, err := g.Append(ctx, "s", Any(), event()); err != nil { // the last batch had one append
		t.Fatal(err)
	}
	rec.hold, rec.inWrite = make(chan struct{}), make(chan struct{}, 1)
	appended := make(chan error, 1)
	go func() {
		_, err := g.Append(ctx, "s", Any(), event())
		appended <- err
	}()
	<-rec.inWrite
	closed := make(chan struct{})
	go func() { g.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while an append was being written")
	case <-time.After(50 * time.Millisecond):
	}
	close(rec.hold)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	<-closed
	if _, err := g.Append(ctx, "s", Any(), event()); err != ErrClosed {
		t.Fatalf("append after Close: %v, want ErrClosed", err)
	}
}

// Appends racing Close each end: written, or ErrClosed; none is left
// queued behind a writer that has gone.
func TestGroupCommitAppendsRacingCloseAllReturn(t *testing.T) {
	for range 20 {
		rec := &recorder{events: map[uuid.UUID]int{}}
		g := NewGroupCommitter(rec.write, 0)
		var wg sync.WaitGroup
		var written, refused atomic.Int64
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					_, err := g.Append(context.Background(), "s", Any(), event())
					if err == ErrClosed {
						refused.Add(1)
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					written.Add(1)
				}
			}()
		}
		time.Sleep(2 * time.Millisecond)
		g.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("appends still waiting after Close")
		}
		rec.mu.Lock()
		n := len(rec.events)
		rec.mu.Unlock()
		if int64(n) != written.Load() || refused.Load() != 50 {
			t.Fatalf("%d written by the writer, %d appends returned success, %d refused", n, written.Load(), refused.Load())
		}
	}
}

// A batch never exceeds its bound in events, however many appends wait.
func TestGroupCommitBatchBound(t *testing.T) {
	rec := &recorder{events: map[uuid.UUID]int{}}
	g := NewGroupCommitter(rec.write, 5)
	defer g.Close()
	ctx := context.Background()
	rec.hold = make(chan struct{}) // the crowd gathers behind a slow write
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.Append(ctx, "s", Any(), event()); err != nil {
				t.Error(err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(rec.hold)
	wg.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 40 {
		t.Fatalf("%d events written, want 40", len(rec.events))
	}
	most := 0
	for _, b := range rec.batches {
		most = max(most, b)
	}
	if most > 5 {
		t.Fatalf("a batch of %d appends of one event, over the bound of 5: %v", most, rec.batches)
	}
}

// A batch that fails to write fails every append in it, alone or crowded:
// no caller may take an unwritten event for a written one.
func TestGroupCommitWriteErrorReachesEveryAppend(t *testing.T) {
	broken := errors.New("disk full")
	g := NewGroupCommitter(func(context.Context, []*AppendRequest) error { return broken }, 0)
	defer g.Close()
	ctx := context.Background()
	if _, err := g.Append(ctx, "s", Any(), event()); !errors.Is(err, broken) {
		t.Fatalf("lone append: %v", err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.Append(ctx, "s", Any(), event()); !errors.Is(err, broken) {
				t.Errorf("crowded append: %v", err)
			}
		}()
	}
	wg.Wait()
}
