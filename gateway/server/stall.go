package server

import (
	"net"
	"sync/atomic"
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
	return &stallConn{Conn: c, span: int64(l.span)}, nil
}

// epoch anchors the connections' deadlines on the monotonic clock.
var epoch = time.Now()

type stallConn struct {
	net.Conn
	span int64
	// at is the write deadline set last, in nanoseconds since epoch; 0 for
	// none or one set by a caller, which the next write replaces. Writes may
	// come from two goroutines (a stream's late flush): both may move it.
	at atomic.Int64
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
	now := time.Now()
	t := int64(now.Sub(epoch))
	if c.at.Load()-t <= c.span*3/4 {
		c.at.Store(t + c.span)
		_ = c.Conn.SetWriteDeadline(now.Add(time.Duration(c.span)))
	}
}

func (c *stallConn) SetWriteDeadline(t time.Time) error {
	c.at.Store(0)
	return c.Conn.SetWriteDeadline(t)
}

func (c *stallConn) SetDeadline(t time.Time) error {
	c.at.Store(0)
	return c.Conn.SetDeadline(t)
}

// CloseWrite lets net/http half-close a connection it is about to drop,
// so that the client reads the answer before the reset.
func (c *stallConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
