// Package directhttp is an HTTP/1.1 client transport that makes each
// exchange on the caller's goroutine: it writes the request and reads the
// response on the connection itself, where net/http's Transport hands every
// request to a writer goroutine and every response back from a reader
// goroutine. On a lone request those hand-offs are goroutine wake-ups the
// caller waits for; here there are none. Kept-alive connections are pooled
// per host; a cancelled context closes the connection it is using.
//
// It speaks HTTP/1.1 only (over TLS for https), which every model provider
// serves, and does not go through a proxy. Like net/http's Transport, it
// asks for gzip when the caller named no encoding and decompresses the
// answer: a long completion crosses the ocean in a fraction of its bytes.
package directhttp

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Transport is an http.RoundTripper. Its zero value is not ready: set Dial.
type Transport struct {
	// Dial opens a TCP connection, e.g. (&net.Dialer{…}).DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLS is the configuration for https (nil: the system's roots).
	TLS *tls.Config
	// MaxIdlePerHost bounds the kept-alive connections per host (default 64).
	MaxIdlePerHost int
	// IdleTimeout drops a kept-alive connection unused for this long
	// (default 90 s).
	IdleTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response's headers
	// once the request is written (0: none).
	ResponseHeaderTimeout time.Duration
	// DrainTimeout bounds the wait for the end of a body closed before it
	// (default 1 s).
	DrainTimeout time.Duration
	// DisableCompression sends no Accept-Encoding of the transport's own.
	DisableCompression bool

	mu   sync.Mutex
	idle map[string][]*conn
}

type conn struct {
	net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	key  string
	used time.Time // when it was last put back
}

// RoundTrip sends req and returns its response; the body reads from the
// connection, which goes back to the pool when the body is read to its end.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	key, addr, err := target(req)
	if err == nil {
		err = checkHeader(req.Header)
	}
	if err != nil {
		closeBody(req)
		return nil, err
	}
	for retried := false; ; retried = true {
		c, reused, err := t.get(req.Context(), key, addr, req.URL.Hostname())
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := t.exchange(req, c)
		if err == nil {
			return resp, nil
		}
		// A kept-alive connection the server had closed fails before any
		// byte of an answer: the request is sent again on a new connection,
		// once, if its body can be (net/http does the same).
		var nr noResponse
		if !reused || retried || !errors.As(err, &nr) || nr.Timeout() || req.Context().Err() != nil || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return nil, err
		}
		again := *req
		if req.GetBody != nil {
			if again.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		req = &again
	}
}

// noResponse marks a failure before any byte of the response arrived.
type noResponse struct{ err error }

func (e noResponse) Error() string { return e.err.Error() }
func (e noResponse) Unwrap() error { return e.err }

// Timeout tells url.Error and callers that a deadline ran out.
func (e noResponse) Timeout() bool {
	var ne net.Error
	return errors.As(e.err, &ne) && ne.Timeout()
}

func (t *Transport) exchange(req *http.Request, c *conn) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeBody(req)
		t.put(c)
		return nil, err
	}
	// No goroutine waits for the context: AfterFunc runs only if it ends,
	// and then closes the connection under whatever read or write is on it.
	stop := context.AfterFunc(ctx, func() { c.Conn.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		c.Conn.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	gz := t.asksGzip(req)
	if err := writeRequest(c.bw, req, gz); err != nil {
		return fail(noResponse{err})
	}
	if err := c.bw.Flush(); err != nil {
		return fail(noResponse{err})
	}
	if t.ResponseHeaderTimeout > 0 {
		_ = c.SetReadDeadline(time.Now().Add(t.ResponseHeaderTimeout))
	}
	if _, err := c.br.Peek(1); err != nil {
		return fail(noResponse{err})
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return fail(err)
	}
	if t.ResponseHeaderTimeout > 0 {
		_ = c.SetReadDeadline(time.Time{})
	}
	resp.Body = &body{rc: resp.Body, c: c, t: t, stop: stop, keep: !resp.Close && !req.Close}
	if gz && resp.ContentLength != 0 && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		// As net/http does: the caller sees the decoded body, of unknown
		// length, and no encoding. An empty body (a 204's) stays as it is.
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
		resp.Body = &gzipBody{body: resp.Body}
	}
	return resp, nil
}

// asksGzip says whether the transport adds Accept-Encoding: gzip to req,
// under net/http's rules: the caller named no encoding and no range (a
// range of the compressed bytes could not be decoded), and a body comes.
func (t *Transport) asksGzip(req *http.Request) bool {
	return !t.DisableCompression && req.Method != http.MethodHead &&
		req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == ""
}

// gzipBody decodes a gzip body; the decoder starts at the first Read, so
// that returning the response does not wait for the body's first bytes.
type gzipBody struct {
	body io.ReadCloser
	zr   *gzip.Reader
	err  error
}

func (g *gzipBody) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.zr == nil {
		if g.zr, g.err = gzip.NewReader(g.body); g.err != nil {
			if g.err == io.EOF {
				g.err = io.ErrUnexpectedEOF // a gzip body has at least a header
			}
			return 0, g.err
		}
	}
	return g.zr.Read(p)
}

// Close closes the connection's body, which keeps or closes the connection.
func (g *gzipBody) Close() error { return g.body.Close() }

// body is a response body on its connection.
type body struct {
	rc   io.ReadCloser
	c    *conn
	t    *Transport
	stop func() bool
	keep bool
	done bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.done = true
		// Read to its end: the connection may serve the next request,
		// unless the context ended meanwhile (and closed it).
		if b.stop() && b.keep {
			b.t.put(b.c)
		} else {
			b.c.Conn.Close()
		}
	} else if err != nil {
		b.done = true
		b.stop()
		b.c.Conn.Close()
	}
	return n, err
}

// drainLimit is the most of a body closed before its end that is read to
// keep its connection: a stream stopped at its last event has only the
// chunked body's few closing bytes left.
const drainLimit = 4 << 10

// Close before the end: what is left unread would be the next response's
// beginning. A relayed stream is closed at its last event, before the
// body's end (which the upstream sends when its handler returns, often a
// moment later), and dropping its connection would cost the next request a
// new one, on both sides. So the rest, up to drainLimit bytes, is read on a
// goroutine of its own within DrainTimeout, and the connection kept if the
// body ends there; anything else closes it.
func (b *body) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	if !b.stop() || !b.keep {
		b.c.Conn.Close() // the context ended (and closed it), or no keep-alive
		return nil
	}
	go b.drain()
	return nil
}

func (b *body) drain() {
	wait := b.t.DrainTimeout
	if wait <= 0 {
		wait = time.Second
	}
	if b.c.SetReadDeadline(time.Now().Add(wait)) == nil {
		n, err := io.Copy(io.Discard, io.LimitReader(b.rc, drainLimit+1))
		if err == nil && n <= drainLimit && b.c.SetReadDeadline(time.Time{}) == nil {
			b.t.put(b.c)
			return
		}
	}
	b.c.Conn.Close()
}

// get returns a kept-alive connection to key, or dials one.
func (t *Transport) get(ctx context.Context, key, addr, host string) (*conn, bool, error) {
	t.mu.Lock()
	idleFor := t.idleTimeout()
	for l := t.idle[key]; len(l) > 0; l = t.idle[key] {
		c := l[len(l)-1]
		t.idle[key] = l[:len(l)-1]
		if time.Since(c.used) < idleFor {
			t.mu.Unlock()
			return c, true, nil
		}
		c.Conn.Close()
	}
	t.mu.Unlock()
	raw, err := t.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	nc := raw
	if key[0] == 's' { // "s" + host:port is https
		cfg := t.TLS.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, false, err
		}
		nc = tc
	}
	return &conn{Conn: nc, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 4<<10), key: key}, false, nil
}

// put keeps a connection whose last response was read to its end.
func (t *Transport) put(c *conn) {
	if c.br.Buffered() > 0 { // bytes nobody asked for: not a clean connection
		c.Conn.Close()
		return
	}
	max := t.MaxIdlePerHost
	if max <= 0 {
		max = 64
	}
	c.used = time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idle == nil {
		t.idle = map[string][]*conn{}
	}
	l := t.idle[c.key]
	// The oldest are at the front: those idle too long are closed here
	// rather than left open until the next request to their host.
	stale := 0
	for stale < len(l) && c.used.Sub(l[stale].used) >= t.idleTimeout() {
		l[stale].Conn.Close()
		stale++
	}
	l = l[stale:]
	if len(l) >= max {
		t.idle[c.key] = l
		c.Conn.Close()
		return
	}
	t.idle[c.key] = append(l, c)
}

func (t *Transport) idleTimeout() time.Duration {
	if t.IdleTimeout <= 0 {
		return 90 * time.Second
	}
	return t.IdleTimeout
}

// CloseIdleConnections closes the kept-alive connections.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, l := range t.idle {
		for _, c := range l {
			c.Conn.Close()
		}
		delete(t.idle, k)
	}
}

// target gives the pool key ("p" or "s" and host:port) and the address.
func target(req *http.Request) (key, addr string, err error) {
	u := req.URL
	port := u.Port()
	var scheme string
	switch u.Scheme {
	case "http":
		scheme = "p"
		if port == "" {
			port = "80"
		}
	case "https":
		scheme = "s"
		if port == "" {
			port = "443"
		}
	default:
		return "", "", fmt.Errorf("directhttp: unsupported scheme %q", u.Scheme)
	}
	addr = net.JoinHostPort(u.Hostname(), port)
	return scheme + addr, addr, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
