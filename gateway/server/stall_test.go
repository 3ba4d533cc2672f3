package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// dialSmallWindow connects with a small receive buffer, so that an answer
// of some megabytes fills the sockets between server and client.
func dialSmallWindow(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// A unary answer, a console download or an error page written to a client
// that takes none of it held its goroutine and connection for ever: only
// streams had a write deadline. Every write on a connection the wrapped
// listener accepts now fails once the client has taken nothing for the
// span.
func TestAnyAnswerToAClientThatStopsReadingEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		var err error
		for i := 0; i < 256 && err == nil; i++ { // 16 MB
			_, err = w.Write(chunk)
		}
		ended <- err
	})}
	go srv.Serve(CutStalledWriters(ln, 300*time.Millisecond))
	t.Cleanup(func() { srv.Close() })

	conn := dialSmallWindow(t, ln.Addr().String())
	fmt.Fprintf(conn, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n") // and nothing read from here on
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("16 MB went to a client that read nothing")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the answer to a client that stopped reading still waits after 10 s")
	}
}

// A connection kept alive across an idle moment longer than the span is
// not cut by the deadline its last answer left: the next write moves it on.
func TestKeptAliveConnectionOutlastsTheWriteSpan(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var served atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.WriteString(w, strings.Repeat("y", 100<<10))
	})}
	go srv.Serve(CutStalledWriters(ln, 200*time.Millisecond))
	t.Cleanup(func() { srv.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := 0; i < 3; i++ {
		fmt.Fprintf(conn, "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d on the kept-alive connection: %v", i, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != 100<<10 {
			t.Fatalf("request %d: %d bytes, %v", i, n, err)
		}
		time.Sleep(500 * time.Millisecond) // past the span
	}
	if served.Load() != 3 {
		t.Fatalf("served %d requests on one connection, want 3", served.Load())
	}
}

// The gateway's own unary answer: a client that sends a request and reads
// none of a large answer no longer keeps the request running.
func TestUnaryAnswerToAClientThatStopsReadingEnds(t *testing.T) {
	h := newHarness(t, harnessOpts{
		scripts: map[string]providertest.Script{"openai": {Text: strings.Repeat("word ", 1_000_000)}},
		cfg:     Config{ClientWriteTimeout: 300 * time.Millisecond},
	})
	conn := dialSmallWindow(t, h.http.Listener.Addr().String())
	body := `{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`
	fmt.Fprintf(conn, "POST /api/v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", h.key, len(body), body)
	began := time.Now()
	for h.running.Load() == 0 {
		if time.Since(began) > 10*time.Second {
			t.Fatal("the request never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for h.running.Load() != 0 {
		if time.Since(began) > 10*time.Second {
			t.Fatal("a unary request whose client stopped reading still runs after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// It was billed: the answer was durable before it went out.
	if n := len(h.completed()); n != 1 {
		t.Fatalf("%d requests completed, want 1", n)
	}
}

// A large answer handed to the connection in one write (a PDF, a CSV, a
// long completion) to a client that reads it slowly but steadily is not
// cut: the deadline moves on as the bytes go, not only between writes.
func TestSlowButSteadyReaderOfALargeAnswerIsNotCut(t *testing.T) {
	const span = 500 * time.Millisecond
	// An attempt in which the reader itself fell behind (its goroutine not
	// run for a while on a busy machine) tests nothing: it is run again.
	for attempt := 1; ; attempt++ {
		steady, err := readLargeAnswerSlowly(t, span)
		if err == nil {
			return
		}
		if steady {
			t.Fatal(err)
		}
		if attempt == 10 {
			t.Fatalf("the reader fell behind in each of %d attempts; the last: %v", attempt, err)
		}
		t.Logf("attempt %d: the reader fell behind (%v); again", attempt, err)
	}
}

// smallSendBuffers gives each accepted connection a small send buffer.
// With the kernel's own, which grows to megabytes, a blocked write is woken
// only once a third of the buffer has drained: a reader steady by the
// measure of readLargeAnswerSlowly could then leave one 64 KiB chunk
// waiting longer than the span on a busy machine, and the cut would not be
// the wrapper's fault.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// readLargeAnswerSlowly serves 6 MiB in one write through CutStalledWriters
// to a client with a small receive window that reads a few kilobytes a
// millisecond: a second or more for the whole, several spans. steady says
// whether the reader took every 64 KiB within a quarter of the span, so
// that each of the writer's 64 KiB chunks went out well within the span
// and a cut could only be the wrapper's fault.
func readLargeAnswerSlowly(t *testing.T, span time.Duration) (steady bool, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const size = 6 << 20
	ended := make(chan error, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		_, err := w.Write(make([]byte, size)) // one write of the whole answer
		ended <- err
	})}
	go srv.Serve(CutStalledWriters(smallSendBuffers{ln}, span))
	defer srv.Close()

	conn := dialSmallWindow(t, ln.Addr().String())
	fmt.Fprintf(conn, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, buf := 0, make([]byte, 64<<10)
	steady, mark, markedAt := true, 0, time.Now()
	for got < size {
		n, err := resp.Body.Read(buf)
		got += n
		if got-mark >= 64<<10 {
			steady = steady && time.Since(markedAt) <= span/4
			mark, markedAt = got, time.Now()
		}
		if err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if got != size {
		return steady && time.Since(markedAt) <= span/4, fmt.Errorf("the client read %d of %d bytes before the answer was cut", got, size)
	}
	if err := <-ended; err != nil {
		return steady, fmt.Errorf("the handler's write failed: %v", err)
	}
	return steady, nil
}
