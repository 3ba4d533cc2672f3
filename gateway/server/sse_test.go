package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	fastjson "github.com/segmentio/encoding/json"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/gateway/chat"
)

// flushCounter is a ResponseWriter that records writes and flushes.
type flushCounter struct {
	mu      sync.Mutex
	h       http.Header
	body    strings.Builder
	flushes int
	flushed string // body as of the last flush
}

func (f *flushCounter) Header() http.Header { return f.h }
func (f *flushCounter) WriteHeader(int)     {}
func (f *flushCounter) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.body.Write(b)
}
func (f *flushCounter) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushes++
	f.flushed = f.body.String()
}
func (f *flushCounter) state() (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flushes, f.flushed
}

func newSSE(w *flushCounter) *sse { return &sse{w: w, rc: http.NewResponseController(w)} }

// A burst of chunks whose successors are at hand leaves in one flush.
func TestSSEBurstIsOneFlush(t *testing.T) {
	w := &flushCounter{h: http.Header{}}
	s := newSSE(w)
	defer s.close()
	for i := range 15 {
		if !s.send(true, sseData, []byte{'a' + byte(i)}, sseEnd) {
			t.Fatal("send failed")
		}
	}
	s.send(false, sseData, []byte("p"), sseEnd)
	if n, body := w.state(); n != 1 || !strings.HasSuffix(body, "data: p\n\n") || strings.Count(body, "data: ") != 16 {
		t.Fatalf("%d flushes, flushed %q", n, body)
	}
}

// A chunk held back for a successor that does not come is flushed anyway
// shortly after, and nothing touches the response after close.
func TestSSEHeldChunkIsFlushedLate(t *testing.T) {
	w := &flushCounter{h: http.Header{}}
	s := newSSE(w)
	s.send(true, sseData, []byte("held"), sseEnd)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, body := w.state(); n == 1 && body == "data: held\n\n" {
			break
		}
		if time.Now().After(deadline) {
			n, body := w.state()
			t.Fatalf("held chunk never flushed: %d flushes, %q", n, body)
		}
		time.Sleep(time.Millisecond)
	}
	s.send(true, sseData, []byte("last"), sseEnd)
	s.close() // flushes what is left, stops the timer
	n, body := w.state()
	if n != 2 || !strings.HasSuffix(body, "data: last\n\n") {
		t.Fatalf("close: %d flushes, %q", n, body)
	}
	time.Sleep(3 * flushDelay)
	if n2, _ := w.state(); n2 != n {
		t.Fatalf("flushed after close: %d flushes", n2)
	}
	if s.send(false, sseDone) {
		t.Fatal("send after close succeeded")
	}
}

// The usage chunk that ends every stream is encoded with segmentio's
// encoder; its bytes are encoding/json's, whatever the cost's digits.
func TestUsageChunkBytesAreEncodingJSONs(t *testing.T) {
	for _, cost := range []string{"0", "0.00012", "12.5", "0.000000000123456789", "123456789.987654321", "-0.5"} {
		c := chat.NewCost(decimal.RequireFromString(cost))
		byok := false
		u := chat.NewUsage(12, 345, 6, 7)
		u.Cost, u.IsBYOK = &c, &byok
		u.CostDetails = &chat.CostDetails{UpstreamInferencePromptCost: c, UpstreamInferenceCompletionsCost: chat.NewCost(decimal.Zero)}
		chunk := chat.NewUsageChunk("gen-0123456789abcdef0123456789abcdef", "openai/gpt-4.1<&>", 1764900000, u)
		want, err := json.Marshal(chunk)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fastjson.Marshal(chunk)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("cost %s:\n got %s\nwant %s", cost, got, want)
		}
	}
}
