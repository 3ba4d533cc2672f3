package core

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
)

// ErrEventTooLarge ends a stream one of whose events is larger than a
// whole non-streamed answer may be (MaxResponseBody): a line that never
// ends, from a broken upstream or a compressed body that expands without
// bound, is not read into memory for ever.
var ErrEventTooLarge = errors.New("stream event too large")

// SSEReader reads server-sent events. It is a tight line scanner over a
// pooled bufio.Reader rather than a general SSE library: the relay path
// needs zero allocations per event, and upstreams only use data/event
// lines (ids, retry and reconnection do not apply to a one-shot POST).
type SSEReader struct {
	r     *bufio.Reader
	data  []byte
	event []byte
	line  []byte // only for lines longer than the buffer
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

// NewSSEReader reads events from r; call Release when done.
func NewSSEReader(r io.Reader) *SSEReader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return &SSEReader{r: br, data: make([]byte, 0, 1024)}
}

// Release returns the buffer to the pool; the reader is unusable after.
func (s *SSEReader) Release() {
	if s.r != nil {
		s.r.Reset(nil)
		readerPool.Put(s.r)
		s.r = nil
	}
}

// Next returns the next event's type ("" when absent) and data, both
// valid until the following call. At the end of input it returns io.EOF
// or the read error.
func (s *SSEReader) Next() (event, data []byte, err error) {
	s.data, s.event = s.data[:0], s.event[:0]
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			// At the end of input an event not closed by a blank line is
			// dropped: it may be a half-written line of a cut stream.
			return nil, nil, err
		}
		if len(line) == 0 {
			if hasData {
				return s.event, s.data, nil
			}
			s.event = s.event[:0]
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if len(s.data)+len(value) >= MaxResponseBody {
				return nil, nil, ErrEventTooLarge
			}
			if hasData {
				s.data = append(s.data, '\n')
			}
			s.data = append(s.data, value...)
			hasData = true
		case "event":
			s.event = append(s.event[:0], value...)
		}
	}
}

// Pending reports whether a whole event (up to its blank line) is already
// buffered, so that Next returns it without reading the connection.
func (s *SSEReader) Pending() bool {
	n := s.r.Buffered()
	if n == 0 {
		return false
	}
	b, _ := s.r.Peek(n)
	return bytes.Contains(b, lf2) || bytes.Contains(b, crlf2)
}

var lf2, crlf2 = []byte("\n\n"), []byte("\r\n\r\n")

// readLine returns one line without its line ending.
func (s *SSEReader) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.line = append(s.line[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(s.line) > MaxResponseBody {
				return nil, ErrEventTooLarge
			}
			line, err = s.r.ReadSlice('\n')
			s.line = append(s.line, line...)
		}
		line = s.line
	}
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
	}
	if n > 0 && line[n-1] == '\r' {
		n--
	}
	return line[:n], err
}

// Body is the upstream side every stream shares: the response body, its SSE
// reader, and the error that ended the stream (sticky: once set, every
// following Next returns it).
type Body struct {
	Provider string
	Err      error
	body     io.ReadCloser
	sse      *SSEReader
}

// NewBody reads server-sent events from an upstream's response body.
func NewBody(provider string, body io.ReadCloser) Body {
	return Body{Provider: provider, body: body, sse: NewSSEReader(body)}
}

// Event returns the next event's data. The read error is returned as is
// (io.EOF at the body's end): each protocol knows whether its stream was
// complete there, or cut (Cut).
func (b *Body) Event() ([]byte, error) {
	_, data, err := b.sse.Next()
	return data, err
}

// Pending reports whether a whole event is already read from the upstream.
func (b *Body) Pending() bool { return b.Err == nil && b.sse != nil && b.sse.Pending() }

// Close releases the upstream connection; safe to call twice.
func (b *Body) Close() error {
	if b.Err == nil {
		b.Err = io.ErrClosedPipe
	}
	if b.sse != nil {
		b.sse.Release()
		b.sse = nil
		return b.body.Close()
	}
	return nil
}
