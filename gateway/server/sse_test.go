package server

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	fastjson "github.com/segmentio/encoding/json"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/providertest"
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
		chunk := chat.NewUsageChunk("gen-0123456789abcdef0123456789abcdef", "openai/gpt-4.1<&>", "openai", 1764900000, u)
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

// writesConn records what the server writes on a connection, call by call.
type writesConn struct {
	net.Conn
	mu     *sync.Mutex
	writes *[]string
}

func (c writesConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	*c.writes = append(*c.writes, string(b))
	c.mu.Unlock()
	return c.Conn.Write(b)
}

type writesListener struct {
	net.Listener
	mu     sync.Mutex
	writes []string
}

func (l *writesListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return writesConn{c, &l.mu, &l.writes}, nil
}

// TestStreamEndsInOneWrite: a stream's usage chunk, its [DONE] and the end
// of the response leave in one system call: a flush of the last event used
// to send it alone, and the chunked encoding's terminator after it.
func TestStreamEndsInOneWrite(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ln := &writesListener{}
	ln.Listener, _ = net.Listen("tcp", "127.0.0.1:0")
	srv := httptest.NewUnstartedServer(h.srv)
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	for _, c := range []struct {
		name    string
		script  providertest.Script
		chunked bool // surely flushed before the end
	}{
		// Chunks that all come at once may still be held when the stream
		// ends (a flush waits flushDelay for company): it then leaves
		// whole, with its length.
		{"burst", providertest.Script{Text: "Hello from the fake.", Chunks: 3}, false},
		// Chunks that come apart are flushed as they come: the last
		// write ends with the terminator.
		{"paced", providertest.Script{Text: "Hello from the fake.", Chunks: 3, ChunkDelay: 10 * time.Millisecond}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.fakes["openai"].SetScript(c.script)
			ln.mu.Lock()
			ln.writes = nil
			ln.mu.Unlock()
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/chat/completions",
				strings.NewReader(`{"model":"test/openai","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
			req.Header.Set("Authorization", "Bearer "+h.key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(body), "data: [DONE]\n\n") {
				t.Fatalf("status %d, body %q", resp.StatusCode, body)
			}
			chunked := resp.ContentLength < 0
			if c.chunked && !chunked {
				t.Fatalf("a paced stream came with a length (%d)", resp.ContentLength)
			}
			ln.mu.Lock()
			defer ln.mu.Unlock()
			last := ln.writes[len(ln.writes)-1]
			end := "data: [DONE]\n\n"
			if chunked {
				end += "\r\n0\r\n\r\n"
			}
			if !strings.Contains(last, `"usage"`) || !strings.HasSuffix(last, end) {
				t.Fatalf("the stream's last write (of %d) is %q; want the usage chunk, [DONE] and the end together", len(ln.writes), last)
			}
		})
	}
}
