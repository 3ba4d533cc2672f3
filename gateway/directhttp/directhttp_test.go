package directhttp

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server is a loopback HTTP server that counts the connections it accepted.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func client() (*http.Client, *Transport) {
	tr := &Transport{Dial: (&net.Dialer{Timeout: time.Second}).DialContext}
	return &http.Client{Transport: tr}, tr
}

func post(t *testing.T, hc *http.Client, ctx context.Context, url, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return hc.Do(req)
}

func TestRequestsShareAKeptAliveConnection(t *testing.T) {
	srv, conns := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		fmt.Fprintf(w, "echo %s %s", r.Header.Get("Content-Type"), b)
	})
	hc, _ := client()
	for i := range 5 {
		resp, err := post(t, hc, context.Background(), srv.URL+"/v1/x", fmt.Sprintf(`{"n":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(b) != fmt.Sprintf(`echo application/json {"n":%d}`, i) || resp.Header.Get("X-Method") != "POST" {
			t.Fatalf("request %d: %d %q %v", i, resp.StatusCode, b, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 sequential requests used %d connections, want 1", n)
	}
}

// A chunked stream, plain or gzipped, is read event by event as the
// upstream flushes it: the first event is read while the second is not yet
// written.
func TestChunkedStreamIsReadAsItComes(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			release := make(chan struct{})
			srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				var out io.Writer = w
				flush := func() { w.(http.Flusher).Flush() }
				if gz {
					w.Header().Set("Content-Encoding", "gzip")
					zw := gzip.NewWriter(w)
					defer zw.Close()
					out, flush = zw, func() { zw.Flush(); w.(http.Flusher).Flush() }
				}
				io.WriteString(out, "data: 1\n\n")
				flush()
				<-release
				io.WriteString(out, "data: 2\n\n")
			})
			hc, _ := client()
			resp, err := post(t, hc, context.Background(), srv.URL, `{}`)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			first := make([]byte, 9)
			if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "data: 1\n\n" {
				t.Fatalf("first event %q %v", first, err)
			}
			close(release)
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(rest) != "data: 2\n\n" {
				t.Fatalf("rest %q %v", rest, err)
			}
		})
	}
}

func TestIdleConnectionClosedByTheServerIsRetried(t *testing.T) {
	var mu sync.Mutex
	var last net.Conn
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		mu.Lock()
		last = c
		mu.Unlock()
		return ctx
	}
	srv.Start()
	defer srv.Close()
	hc, _ := client()
	for i := range 2 {
		resp, err := post(t, hc, context.Background(), srv.URL, fmt.Sprintf("body %d", i))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != fmt.Sprintf("body %d", i) {
			t.Fatalf("request %d answered %q: the body was not sent again whole", i, b)
		}
		// The server drops the kept-alive connection while it is idle.
		mu.Lock()
		last.Close()
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCancelledContextEndsAWaitingRequest(t *testing.T) {
	srv, conns := server(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // then the server notices the client leaving
		if r.URL.Path == "/hold" {
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "ok")
	})
	hc, _ := client()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := post(t, hc, ctx, srv.URL+"/hold", `{}`); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The connection it was waiting on is not reused: the next request
	// gets its own answer on a new one.
	resp, err := post(t, hc, context.Background(), srv.URL+"/", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" || conns.Load() != 2 {
		t.Fatalf("answer %q over %d connections", b, conns.Load())
	}
}

func TestCancelMidBodyDropsTheConnection(t *testing.T) {
	srv, conns := server(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		io.WriteString(w, "part one\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	hc, _ := client()
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := post(t, hc, ctx, srv.URL, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 9)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("reading on after the cancel should fail")
	}
	resp.Body.Close()
	if n := conns.Load(); n != 1 {
		t.Fatalf("connections %d", n)
	}
}

func TestUnreadBodyIsNotReused(t *testing.T) {
	srv, conns := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 100_000))
	})
	hc, _ := client()
	for range 2 {
		resp, err := post(t, hc, context.Background(), srv.URL, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Read(make([]byte, 10))
		resp.Body.Close()
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("a connection with an unread body was reused: %d connections for 2 requests", n)
	}
}

func TestResponseHeaderTimeout(t *testing.T) {
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	tr := &Transport{Dial: (&net.Dialer{}).DialContext, ResponseHeaderTimeout: 50 * time.Millisecond}
	_, err := post(t, &http.Client{Transport: tr}, context.Background(), srv.URL, `{}`)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s over %s", r.Method, r.Proto)
	}))
	defer srv.Close()
	tr := &Transport{Dial: (&net.Dialer{}).DialContext, TLS: srv.Client().Transport.(*http.Transport).TLSClientConfig}
	resp, err := post(t, &http.Client{Transport: tr}, context.Background(), srv.URL, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "POST over HTTP/1.1" {
		t.Fatalf("%q", b)
	}
}

func TestStaleIdleConnectionsAreClosed(t *testing.T) {
	srv, conns := server(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	tr := &Transport{Dial: (&net.Dialer{}).DialContext, IdleTimeout: 30 * time.Millisecond}
	hc := &http.Client{Transport: tr}
	get := func() {
		resp, err := post(t, hc, context.Background(), srv.URL, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	get()
	time.Sleep(60 * time.Millisecond)
	get() // the idle connection is too old: a new one is dialled
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
	tr.mu.Lock()
	idle := len(tr.idle["p"+srv.Listener.Addr().String()])
	tr.mu.Unlock()
	if idle != 1 {
		t.Fatalf("%d idle connections kept, want 1", idle)
	}
}

// sseServer streams two events and [DONE], flushing each, as providers do:
// the chunked body's end leaves only when the handler returns, after the
// last event. With hold, the handler waits that long before returning.
func sseServer(t *testing.T, hold time.Duration) (*httptest.Server, *atomic.Int64) {
	return server(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{`{"n":1}`, `{"n":2}`, `[DONE]`} {
			fmt.Fprintf(w, "data: %s\n\n", ev)
			w.(http.Flusher).Flush()
		}
		select {
		case <-time.After(hold):
		case <-r.Context().Done():
		}
	})
}

// readToDone reads a stream's events up to [DONE] and closes the body
// there, as a client relaying a stream does: the body's end is not read.
func readToDone(t *testing.T, hc *http.Client, url string) {
	t.Helper()
	resp, err := post(t, hc, context.Background(), url, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "data: [DONE]" {
			break
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestStreamClosedAtItsLastEventKeepsTheConnection(t *testing.T) {
	// The body's end comes 20 ms after [DONE]: later than the reader stops.
	srv, conns := sseServer(t, 20*time.Millisecond)
	hc, tr := client()
	for range 5 {
		readToDone(t, hc, srv.URL)
		waitIdle(t, tr, 1)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 5 streams closed at [DONE], want 1", n)
	}
}

func TestStreamWhoseEndNeverComesIsDropped(t *testing.T) {
	srv, conns := sseServer(t, 2*time.Second)
	hc, tr := client()
	tr.DrainTimeout = 20 * time.Millisecond
	readToDone(t, hc, srv.URL)
	time.Sleep(100 * time.Millisecond)
	if n := idleCount(tr); n != 0 {
		t.Fatalf("%d idle connections: a body that never ended was kept", n)
	}
	readToDone(t, hc, srv.URL)
	if n := conns.Load(); n != 2 {
		t.Fatalf("connections %d, want 2", n)
	}
}

func idleCount(tr *Transport) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, l := range tr.idle {
		n += len(l)
	}
	return n
}

// waitIdle waits until the transport keeps n idle connections (the end of
// a closed stream may be read on a goroutine of its own).
func waitIdle(t *testing.T, tr *Transport, n int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); idleCount(tr) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("idle connections %d, want %d", idleCount(tr), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// gzipServer answers with its body gzipped when the request accepts gzip,
// as the providers' APIs do, and says which encoding it was asked for.
func gzipServer(t *testing.T, body string) (*httptest.Server, *atomic.Int64) {
	return server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Asked", r.Header.Get("Accept-Encoding"))
		if r.Header.Get("Accept-Encoding") != "gzip" {
			io.WriteString(w, body)
			return
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		io.WriteString(zw, body)
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", fmt.Sprint(b.Len()))
		w.Write(b.Bytes())
	})
}

// A completion comes gzipped when the transport asks for it, is read
// decoded, and leaves its connection for the next request.
func TestGzipAnswerIsDecoded(t *testing.T) {
	body := strings.Repeat(`{"choices":[{"message":{"content":"long answer"}}]}`, 200)
	srv, conns := gzipServer(t, body)
	hc, _ := client()
	for i := range 3 {
		resp, err := post(t, hc, context.Background(), srv.URL, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != body {
			t.Fatalf("request %d: %d bytes, %v", i, len(b), err)
		}
		if resp.Header.Get("X-Asked") != "gzip" || resp.Header.Get("Content-Encoding") != "" ||
			resp.Header.Get("Content-Length") != "" || resp.ContentLength != -1 || !resp.Uncompressed {
			t.Fatalf("request %d: header %v, length %d, uncompressed %v", i, resp.Header, resp.ContentLength, resp.Uncompressed)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("3 gzipped answers used %d connections, want 1", n)
	}
}

// A caller that names its own encoding gets the bytes as sent; with
// compression off, nothing is asked for.
func TestGzipOnlyWhenTheCallerAsksNothing(t *testing.T) {
	body := strings.Repeat("x", 1000)
	srv, _ := gzipServer(t, body)
	hc, _ := client()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Uncompressed || len(raw) >= len(body) {
		t.Fatalf("caller's own gzip: encoding %q, uncompressed %v, %d bytes", resp.Header.Get("Content-Encoding"), resp.Uncompressed, len(raw))
	}

	hc2, tr := client()
	tr.DisableCompression = true
	resp, err = post(t, hc2, context.Background(), srv.URL, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("X-Asked") != "" || string(b) != body {
		t.Fatalf("compression off: asked %q, %d bytes", resp.Header.Get("X-Asked"), len(b))
	}
}

// A body that says gzip and is not fails its read with gzip's error. Its
// HTTP framing was whole, so the connection serves the next request.
func TestCorruptGzipFails(t *testing.T) {
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			io.WriteString(w, "ok")
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		io.WriteString(w, "not gzip at all")
	})
	hc, _ := client()
	resp, err := post(t, hc, context.Background(), srv.URL, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, gzip.ErrHeader) {
		t.Fatalf("a corrupt gzip body read with error %v, want %v", err, gzip.ErrHeader)
	}
	resp.Body.Close()
	resp, err = post(t, hc, context.Background(), srv.URL+"/ok", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "ok" {
		t.Fatalf("next request: %q %v", b, err)
	}
}

// An empty answer that names gzip (a 204) reads as empty, as net/http
// reads it.
func TestGzipEmptyAnswer(t *testing.T) {
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusNoContent)
	})
	hc, _ := client()
	resp, err := post(t, hc, context.Background(), srv.URL, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 0 || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("204: %d %q %v", resp.StatusCode, b, err)
	}
}
