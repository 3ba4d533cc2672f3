package server

import (
	"net"
	"sync"
	"time"
)

// CutStalledWriters wraps ln so that a write on any connection it accepts
// fails once the peer has taken no bytes for span. Without it, an answer
// (a unary completion, a stream, a PDF from the console, an error page)
// written to a client that stopped reading waits on a full socket for
// ever, holding its goroutine, its connection and, for a stream, its
// credit. The failed write reads as a client gone.
//
// The deadline rolls: each write, and each 64 KiB of a larger one, moves
// it on once a quarter of the span has passed since it was set, so that
// only a stall is cut and a
// connection kept alive across an idle moment longer than the span is
// not (its next write moves the deadline before writing). A span of zero
// or less returns ln unwrapped.
func CutStalledWriters(ln net.Listener, span time.Duration) net.Listener {
	if span <= 0 {
		return ln
	}
	return stallListener{Listener: ln, span: span}
}

type stallListener struct {
	net.Listener
	span time.Duration
}

func (l stallListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: c, write: rolling{span: l.span}}, nil
}

type stallConn struct {
	net.Conn
	// write is the deadline rule (see rolling); mu guards it, as writes may
	// come from two goroutines (a stream's late flush).
	mu    sync.Mutex
	write rolling
}

// stallChunk is the most a write hands the connection at once: the
// deadline moves between chunks, so a large answer written in one call to
// a client that reads slowly but steadily is not cut (a chunk must go
// within the span: 64 KiB in three quarters of a minute by default).
const stallChunk = 64 << 10

func (c *stallConn) Write(p []byte) (n int, err error) {
	for len(p) > 0 {
		q := p[:min(len(p), stallChunk)]
		c.arm()
		m, err := c.Conn.Write(q)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// arm moves the write deadline on when a quarter of the span has passed
// since it was set.
func (c *stallConn) arm() {
	c.mu.Lock()
	at, ok := c.write.next()
	c.mu.Unlock()
	if ok {
		_ = c.Conn.SetWriteDeadline(at)
	}
}

// SetWriteDeadline and SetDeadline set a caller's deadline, which the next
// write replaces with the rolling one.
func (c *stallConn) SetWriteDeadline(t time.Time) error {
	c.forget()
	return c.Conn.SetWriteDeadline(t)
}

func (c *stallConn) SetDeadline(t time.Time) error {
	c.forget()
	return c.Conn.SetDeadline(t)
}

func (c *stallConn) forget() {
	c.mu.Lock()
	c.write.at = time.Time{}
	c.mu.Unlock()
}

// CloseWrite lets net/http half-close a connection it is about to drop,
// so that the client reads the answer before the reset.
func (c *stallConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
