package server

import (
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// gzipWriter compresses what a fake writes, flushing the compressor with
// each flush so that a stream's events leave as they are written.
type gzipWriter struct {
	http.ResponseWriter
	zw *gzip.Writer
}

func (g *gzipWriter) WriteHeader(code int) {
	g.Header().Del("Content-Length")
	g.ResponseWriter.WriteHeader(code)
}
func (g *gzipWriter) Write(b []byte) (int, error) { return g.zw.Write(b) }
func (g *gzipWriter) Flush() {
	g.zw.Flush()
	g.ResponseWriter.(http.Flusher).Flush()
}

// gzipping serves h gzipped to any request that accepts gzip, as the
// providers' APIs do, and counts those requests.
func gzipping(h http.Handler, asked *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			h.ServeHTTP(w, r)
			return
		}
		asked.Add(1)
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		defer zw.Close()
		h.ServeHTTP(&gzipWriter{ResponseWriter: w, zw: zw}, r)
	})
}

// Upstreams that answer gzipped, as the providers' APIs do when asked, are
// read decoded: answers, streams and their usage come through as from any
// other upstream.
func TestGzipUpstreamAnswersAndStreams(t *testing.T) {
	for _, kind := range []string{"openai", "anthropic", "gemini"} {
		t.Run(kind, func(t *testing.T) {
			script := providertest.Script{Text: "one two three four", Chunks: 4, Usage: providertest.Usage{Prompt: 100, Completion: 40}}
			var asked atomic.Int64
			up := httptest.NewServer(gzipping(providertest.NewFake(kind, script, false), &asked))
			t.Cleanup(up.Close)
			base := up.URL
			if kind == "openai" {
				base += "/v1"
			}
			h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
				"test/gz": {{fake: kind, kind: kind, baseURL: base}},
			}})

			resp, body := h.post(`{"model":"test/gz","messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != 200 {
				t.Fatalf("answer: %d %s", resp.StatusCode, body)
			}
			var out struct {
				Choices []struct{ Message struct{ Content string } }
				Usage   struct {
					PromptTokens     int `json:"prompt_tokens"`
					CompletionTokens int `json:"completion_tokens"`
				}
			}
			if err := json.Unmarshal(body, &out); err != nil || len(out.Choices) != 1 || out.Choices[0].Message.Content != "one two three four" ||
				out.Usage.PromptTokens != 100 || out.Usage.CompletionTokens != 40 {
				t.Fatalf("answer %s (%v)", body, err)
			}

			resp, body = h.post(`{"model":"test/gz","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != 200 || !strings.HasSuffix(string(body), "data: [DONE]\n\n") {
				t.Fatalf("stream: %d %q", resp.StatusCode, body)
			}
			var text strings.Builder
			for _, line := range strings.Split(string(body), "\n") {
				if !strings.HasPrefix(line, "data: {") {
					continue
				}
				var c struct {
					Choices []struct{ Delta struct{ Content string } }
				}
				if err := json.Unmarshal([]byte(line[6:]), &c); err != nil {
					t.Fatalf("chunk %q: %v", line, err)
				}
				for _, ch := range c.Choices {
					text.WriteString(ch.Delta.Content)
				}
			}
			if text.String() != "one two three four" {
				t.Fatalf("streamed text %q", text.String())
			}
			if n := asked.Load(); n != 2 {
				t.Fatalf("%d of 2 upstream requests asked for gzip", n)
			}
			evs := h.completed()
			if len(evs) != 2 || evs[0].Usage.Input != 100 || evs[0].Usage.Output != 40 || evs[1].Usage.Input != 100 || evs[1].Usage.Output != 40 {
				t.Fatalf("usage events %+v", evs)
			}
			h.heldIsZero()
		})
	}
}
