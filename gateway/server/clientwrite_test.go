package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// A streaming client that stops reading while its request runs is cut once
// it has taken no bytes for the client write timeout: the request ends and
// its credit hold goes, where it used to wait on the full socket for ever,
// its hold renewed all the while.
func TestStreamToAClientThatStopsReadingEnds(t *testing.T) {
	// Some megabytes of chunks: more than the sockets between the gateway
	// and a client with a small receive buffer hold.
	h := newHarness(t, harnessOpts{
		scripts: map[string]providertest.Script{"openai": {Text: strings.Repeat("word ", 400_000), Chunks: 40_000}},
		cfg:     Config{ClientWriteTimeout: 300 * time.Millisecond},
	})
	conn := dialSmallWindow(t, h.http.Listener.Addr().String())
	body := `{"model":"test/openai","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	if _, err := fmt.Fprintf(conn, "POST /api/v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", h.key, len(body), body); err != nil {
		t.Fatal(err)
	}
	// Nothing is read from here on.
	held := func() int {
		_, n, err := h.ledger.Held(context.Background(), h.account)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	began := time.Now()
	for held() == 0 {
		if time.Since(began) > 10*time.Second {
			t.Fatal("the request never took its hold")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for held() != 0 {
		if time.Since(began) > 10*time.Second {
			t.Fatal("a stream whose client stopped reading still holds its credit after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A client that sends part of its body and then nothing more held its
// request's goroutine and connection for ever (the server bounds only the
// headers' time). Past the body read timeout without a byte it is answered
// 408 and the connection is closed; no upstream is called.
func TestBodyThatStopsComingIsA408(t *testing.T) {
	h := newHarness(t, harnessOpts{cfg: Config{BodyReadTimeout: 300 * time.Millisecond}})
	for _, path := range []string{"/api/v1/chat/completions", "/api/v1/completions", "/api/v1/embeddings", "/api/v1/messages", "/api/v1/messages/count_tokens"} {
		conn, err := net.Dial("tcp", h.http.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		part := `{"model":"test/openai","messages":[`
		if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n%s", path, h.key, part); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: no answer to a body that stopped coming within 5 s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "request body") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
		if n, err := conn.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("%s: the connection is not closed after the 408: %d %v", path, n, err)
		}
	}
	if n := upstreamCalls(h); n != 0 {
		t.Fatalf("%d upstream calls", n)
	}
}

// The body's read deadline is off once the body is read: the server's own
// read of the connection, which tells a client gone, goes on while an
// answer that takes longer than the body read timeout is waited for or
// streamed, and must not end it.
func TestAnswersOutlastTheBodyReadTimeout(t *testing.T) {
	for name, tc := range map[string]struct {
		script providertest.Script
		body   string
		want   string
	}{
		"unary": {providertest.Script{Text: "late answer", Delay: 800 * time.Millisecond},
			`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`, "late answer"},
		"stream": {providertest.Script{Text: "a b c d e", Chunks: 5, ChunkDelay: 250 * time.Millisecond},
			`{"model":"test/openai","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "[DONE]"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{
				scripts: map[string]providertest.Script{"openai": tc.script},
				cfg:     Config{BodyReadTimeout: 200 * time.Millisecond},
			})
			resp, b := h.post(tc.body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), tc.want) {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			if got := len(h.completed()); got != 1 {
				t.Fatalf("completed events: %d", got)
			}
		})
	}
}
