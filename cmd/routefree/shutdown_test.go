package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestGracefulShutdownFinishesStreams sends SIGTERM while 50 streams are
// mid-way: /readyz turns 503 first, every stream still ends with [DONE],
// every one is recorded, and the exit status is 0.
func TestGracefulShutdownFinishesStreams(t *testing.T) {
	// 10 chunks 150 ms apart: each stream lasts about 1.5 s.
	up := fakeUpstream(t, providertest.Script{Text: "one two three four five six seven eight nine ten", Chunks: 10, ChunkDelay: 150 * time.Millisecond})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "")
	p := startServe(t, append(env, "ROUTEFREE_SHUTDOWN_DELAY=2s", "ROUTEFREE_SHUTDOWN_GRACE=20s"), store...)

	const n = 50
	type result struct {
		id   string
		done bool
		err  error
	}
	results := make([]result, n)
	var started, wg sync.WaitGroup
	started.Add(n)
	wg.Add(n)
	for i := range n {
		go func() {
			defer wg.Done()
			first := true
			signalStarted := func() {
				if first {
					first = false
					started.Done()
				}
			}
			defer signalStarted()
			body := `{"model":"routefree/echo","stream":true,"max_tokens":32,"messages":[{"role":"user","content":"count"}]}`
			req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := client.Do(req)
			if err != nil {
				results[i].err = err
				return
			}
			defer resp.Body.Close()
			results[i].id = resp.Header.Get("X-Request-Id")
			if resp.StatusCode != http.StatusOK {
				results[i].err = fmt.Errorf("status %d", resp.StatusCode)
				return
			}
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				line := sc.Text()
				if strings.HasPrefix(line, "data: {") {
					signalStarted() // content is flowing: the stream is mid-way
				}
				if line == "data: [DONE]" {
					results[i].done = true
				}
			}
			results[i].err = sc.Err()
		}()
	}
	started.Wait()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Readiness goes first, while the streams are still running: /readyz
	// answers 503 through the shutdown delay, before the listener closes
	// (a poll that finds the port closed first has missed it).
	for {
		st := getStatus(p.base + "/readyz")
		if st == http.StatusServiceUnavailable {
			break
		}
		if st == 0 {
			t.Fatal("the listener closed before /readyz answered 503")
		}
		select {
		case <-p.exited:
			t.Fatal("routefree exited before /readyz answered 503")
		case <-time.After(10 * time.Millisecond):
		}
	}
	wg.Wait()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("routefree did not exit")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	// The port is closed once shutdown finished.
	if getStatus(p.base+"/healthz") != 0 {
		t.Error("still accepting connections after exit")
	}

	s, err := sqlite.Open(dir+"/events.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	billed := completedEvents(t, s)
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("stream %d: %v", i, r.err)
		case !r.done:
			t.Errorf("stream %d (%s) ended without [DONE]", i, r.id)
		case billed[r.id] != 1:
			t.Errorf("stream %s has %d request.completed events, want 1", r.id, billed[r.id])
		}
	}
}

// TestShutdownCutIsRecordedAsSuch: requests still waiting for a slow
// upstream when the shutdown grace runs out are told so (a 503 in the
// OpenAI shape, or on a stream whose 200 went out the error chunk, code
// 503), and the history records them as cut by the shutdown, not as
// clients that left.
func TestShutdownCutIsRecordedAsSuch(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "too late", Delay: 3 * time.Second})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "")
	p := startServe(t, append(env, "ROUTEFREE_SHUTDOWN_GRACE=1s"), store...)

	type answer struct {
		id     string
		status int
		body   string
		err    error
	}
	answers := make([]answer, 4) // one unary request, three streams
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"model":"routefree/echo","stream":%t,"max_tokens":16,"messages":[{"role":"user","content":"hello"}]}`, i > 0)
			req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := client.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			answers[i] = answer{resp.Header.Get("X-Request-Id"), resp.StatusCode, string(b), err}
		}()
	}
	// The four requests and this scrape are in their handlers.
	waitFor(t, 5*time.Second, func() bool { return metric(p.base, "routefree_http_in_flight") == 5 })
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	wg.Wait()

	s, err := sqlite.Open(dir+"/events.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	failed := failedEvents(t, s)
	billed := completedEvents(t, s)
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("request %d: %v", i, a.err)
		}
		told := false
		switch a.status {
		case http.StatusServiceUnavailable:
			told = strings.Contains(a.body, `"code":503`) && strings.Contains(a.body, "shutting down")
		case http.StatusOK: // a stream whose keep-alive went out: its last chunk
			lines := strings.Split(strings.TrimSpace(a.body), "\n")
			told = strings.Contains(lines[len(lines)-1], `"code":503`)
		}
		if !told {
			t.Errorf("request %d (%s) was not told of the shutdown: %d %q", i, a.id, a.status, a.body)
		}
		f, ok := failed[a.id]
		if !ok || f.Outcome != domain.OutcomeShutdown || f.Status != http.StatusServiceUnavailable || f.Reason != "shutting_down" || billed[a.id] != 0 {
			t.Errorf("request %d (%s) recorded as %+v (%v), billed %d times", i, a.id, f, ok, billed[a.id])
		}
	}
}

// failedEvents reads every request.failed event by request ID.
func failedEvents(t *testing.T, s eventstore.Store) map[string]domain.RequestFailed {
	t.Helper()
	out := map[string]domain.RequestFailed{}
	eachEvent(t, s, domain.TypeRequestFailed, func(data []byte) {
		var rf domain.RequestFailed
		if err := json.Unmarshal(data, &rf); err != nil {
			t.Fatal(err)
		}
		out[rf.RequestID] = rf
	})
	return out
}

// TestHangupShutsDownGracefully: SIGHUP (the terminal or the SSH session
// serve runs in closing) drains as SIGTERM does: the stream in flight ends
// with [DONE] and is billed once, and serve exits 0, rather than dying at
// once as Go's default for the signal has it.
func TestHangupShutsDownGracefully(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "one two three four five six seven eight", Chunks: 8, ChunkDelay: 100 * time.Millisecond})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "")
	p := startServe(t, append(env, "ROUTEFREE_SHUTDOWN_DELAY=100ms", "ROUTEFREE_SHUTDOWN_GRACE=20s"), store...)

	body := `{"model":"routefree/echo","stream":true,"max_tokens":32,"messages":[{"role":"user","content":"count"}]}`
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	sc := bufio.NewScanner(resp.Body)
	hung, done := false, false
	for sc.Scan() {
		line := sc.Text()
		if !hung && strings.HasPrefix(line, "data: {") {
			hung = true // content is flowing: hang up mid-stream
			if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
		}
		if line == "data: [DONE]" {
			done = true
		}
	}
	if !done {
		t.Fatalf("the stream in flight at SIGHUP ended without [DONE]: %v", sc.Err())
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("routefree did not exit after SIGHUP")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SIGHUP, want 0 (%v)", code, p.cmd.ProcessState)
	}
	s, err := sqlite.Open(dir+"/events.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := completedEvents(t, s)[id]; n != 1 {
		t.Fatalf("the stream has %d request.completed events, want 1", n)
	}
}

// TestStoppedBeforeItServesExitsCleanly: a serve stopped (SIGTERM, as a
// supervisor stops a service) while it is still starting (here waiting for
// a Redis that does not answer yet) stops as asked: exit status 0, saying
// it stopped before serving, not a failure reading "context canceled" that
// a supervisor reports and alerts on.
func TestStoppedBeforeItServesExitsCleanly(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "stopped early"}))
	redisURL := fmt.Sprintf("redis://127.0.0.1:%d/0", freePort(t))
	p, up := launchServe(t, append(env, "ROUTEFREE_LOG_LEVEL=info"), "--data-dir", t.TempDir(), "--redis-url", redisURL)
	waitFor(t, 20*time.Second, func() bool { return strings.Contains(p.logs.String(), "waiting for Redis") })
	select {
	case <-up:
		t.Fatal("serve listens without Redis")
	default:
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve stopped while starting: exit status %d\n%s", code, tail(p.logs.String(), 2048))
	}
	if logs := p.logs.String(); !strings.Contains(logs, "stopped before serving") {
		t.Fatalf("serve did not say it stopped before serving:\n%s", tail(logs, 2048))
	}
}
