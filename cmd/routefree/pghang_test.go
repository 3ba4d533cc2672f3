package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// stallProxy forwards TCP connections to a server until stalled: then, as
// behind a network partition or a frozen database host, bytes stop in both
// directions and nothing is refused or closed. Resumed, it closes the
// stalled connections (as a partition's end finds them timed out) and
// forwards again.
type stallProxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	stalled bool
	conns   []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.resume() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *stallProxy) serve(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	stalled := p.stalled
	p.mu.Unlock()
	if stalled {
		return // accepted, never answered: held open until resume
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, s)
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			for p.isStalled() {
				time.Sleep(10 * time.Millisecond) // bytes held, as lost packets
			}
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	go pipe(s, c)
	pipe(c, s)
}

func (p *stallProxy) isStalled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled
}

func (p *stallProxy) stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

func (p *stallProxy) resume() {
	p.mu.Lock()
	conns := p.conns
	p.conns, p.stalled = nil, false
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// TestPostgresStalledGives503: PostgreSQL stops answering while serve
// runs (a partition, a frozen host: nothing is refused, nothing comes
// back). Requests are answered with a 503 in the OpenAI error shape rather
// than left waiting for the store, /readyz says not ready, and no request
// a client saw complete goes unbilled. Once PostgreSQL answers again,
// service comes back without a restart.
func TestPostgresStalledGives503(t *testing.T) {
	direct := testenv.PostgresURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	px := newStallProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	store := []string{"--store", "postgres", "--postgres-url", u.String()}
	up := fakeUpstream(t, providertest.Script{Text: "stalled store", Chunks: 2})
	env := baseEnv(up)
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	p := startServe(t, env, store...)
	waitFor(t, 10*time.Second, func() bool { return keyStatus(p.base, key) == http.StatusOK })
	before := chat(context.Background(), p.base, key, false, 16)
	if !before.complete {
		t.Fatalf("before the stall: %+v", before)
	}

	px.stall()
	// Waiting clients: a few requests at once, as under load. None may be
	// left waiting on the store: the client's own limit is far above any
	// bound the gateway should keep.
	type answer struct {
		outcome
		body string
	}
	answers := make([]answer, 4)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
			defer cancel()
			body := `{"model":"routefree/echo","max_tokens":16,"messages":[{"role":"user","content":"hello"}]}`
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/api/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := client.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			answers[i] = answer{outcome{id: resp.Header.Get("X-Request-Id"), status: resp.StatusCode, err: err}, string(b)}
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("request %d while PostgreSQL is stalled: %v", i, a.err)
		}
		if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, `"error":{`) || !strings.Contains(a.body, `"code":503`) {
			t.Fatalf("request %d while PostgreSQL is stalled: %d %s", i, a.status, a.body)
		}
		t.Logf("request %d while PostgreSQL is stalled: %d %s", i, a.status, strings.TrimSpace(a.body))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/readyz", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("/readyz while PostgreSQL is stalled: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while PostgreSQL is stalled: %d", resp.StatusCode)
	}

	px.resume()
	var after outcome
	waitFor(t, 60*time.Second, func() bool {
		after = chat(context.Background(), p.base, key, false, 16)
		return after.complete
	})
	quiesce(t, p.base)
	served := map[string]string{"acct_demo": keyBalance(t, p.base, key).String()}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	s, err := postgres.Open(context.Background(), direct, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seen := []outcome{before, after}
	for _, a := range answers {
		seen = append(seen, a.outcome)
	}
	checkBilled(t, s, seen, served)
}
