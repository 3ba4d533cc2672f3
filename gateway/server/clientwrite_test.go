package server

import (
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
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
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", h.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
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
