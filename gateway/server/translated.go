package server

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
)

// translated is what the writers of /completions, /messages and
// /responses share: it
// stands in for the client's connection while the chat pipeline serves a
// request of another API's shape. A JSON answer or error is held in buf
// for the writer's own finish; an event stream is cut into its SSE events,
// each handed to onEvent, under mu, as soon as it is whole.
type translated struct {
	w      http.ResponseWriter
	mu     sync.Mutex
	status int
	stream bool
	buf    bytes.Buffer // held JSON body, or the unparsed tail of the stream
	err    error

	onStatus func()             // once the status is known (the pipeline has named the request by then); nil: nothing to do
	onEvent  func([]byte) error // one event of the chat stream, without its blank line
}

func (t *translated) Header() http.Header { return t.w.Header() }

func (t *translated) WriteHeader(status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status != 0 {
		return
	}
	t.status = status
	if t.onStatus != nil {
		t.onStatus()
	}
	if status == http.StatusOK && bytes.HasPrefix([]byte(t.w.Header().Get("Content-Type")), []byte("text/event-stream")) {
		t.stream = true
		t.w.WriteHeader(status)
	}
}

func (t *translated) Write(p []byte) (int, error) {
	if t.status == 0 {
		t.WriteHeader(http.StatusOK)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return 0, t.err
	}
	t.buf.Write(p)
	if !t.stream {
		return len(p), nil
	}
	for {
		b := t.buf.Bytes()
		i := bytes.Index(b, sseEnd)
		if i < 0 {
			break
		}
		ev := append([]byte(nil), b[:i]...)
		t.buf.Next(i + len(sseEnd))
		if err := t.onEvent(ev); err != nil {
			t.err = err
			return 0, err
		}
	}
	return len(p), nil
}

// FlushError lets http.ResponseController flush through to the client.
func (t *translated) FlushError() error { return http.NewResponseController(t.w).Flush() }

// Unwrap gives http.ResponseController the connection underneath.
func (t *translated) Unwrap() http.ResponseWriter { return t.w }

// wrote reports whether the pipeline has written a status.
func (t *translated) wrote() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status != 0
}

// chatWriter is a translated writer with its own rendering of a held
// answer.
type chatWriter interface {
	http.ResponseWriter
	wrote() bool
	finish() error
}

// throughChat serves c with the chat pipeline writing to w in place of the
// client's connection, then lets w finish a held answer. An error before
// the pipeline wrote anything is answered by onErr, on the connection
// itself.
func (s *Server) throughChat(c echo.Context, w chatWriter, onErr func(error) error) error {
	resp := c.Response()
	orig := resp.Writer
	resp.Writer = w
	defer func() { resp.Writer = orig }()
	if err := s.chatCompletions(c); err != nil && !w.wrote() {
		resp.Writer = orig
		return onErr(err)
	}
	return w.finish()
}
