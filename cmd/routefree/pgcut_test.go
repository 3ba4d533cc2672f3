package main

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// streamSeen is what a client of one stream saw.
type streamSeen struct {
	id      string
	status  int
	content int  // content chunks received
	done    bool // the final [DONE]
	err     error
}

// readStream sends one streamed request and counts what comes back; started
// is called once content flows.
func readStream(base, key string, started func()) streamSeen {
	body := `{"model":"routefree/echo","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"count"}]}`
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		started()
		return streamSeen{err: err}
	}
	defer resp.Body.Close()
	s := streamSeen{id: resp.Header.Get("X-Request-Id"), status: resp.StatusCode}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "data: {") && strings.Contains(line, `"content":"`) {
			s.content++
			started()
		}
		if line == "data: [DONE]" {
			s.done = true
		}
	}
	started()
	s.err = sc.Err()
	return s
}

// terminateBackends ends every PostgreSQL session named app, as an
// operator's pg_terminate_backend or a failover of the database would.
// withApplicationName is the PostgreSQL URL base whose sessions carry
// app as their application_name, for terminateBackends to find.
func withApplicationName(t *testing.T, base, app string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String()
}

func terminateBackends(t *testing.T, base, app string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	err = c.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, app).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPostgresSessionsCutMidStreams: while streams are mid-way, the serve's
// PostgreSQL sessions are ended (pg_terminate_backend, a database failover).
// Every stream that delivered content is billed once, the balance served
// equals the replay's, and service goes on without a restart.
func TestPostgresSessionsCutMidStreams(t *testing.T) {
	direct := testenv.PostgresURL(t)
	app := "rf_cut_" + testenv.Suffix()
	store := []string{"--store", "postgres", "--postgres-url", withApplicationName(t, direct, app)}
	// 12 chunks 100 ms apart: each stream lasts about 1.2 s.
	up := fakeUpstream(t, providertest.Script{Text: "a b c d e f g h i j k l", Chunks: 12, ChunkDelay: 100 * time.Millisecond})
	env := baseEnv(up)
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	p := startServe(t, env, store...)
	waitFor(t, 10*time.Second, func() bool { return keyStatus(p.base, key) == http.StatusOK })

	const waves, n = 4, 12
	var seen []streamSeen
	for w := range waves {
		results := make([]streamSeen, n)
		var started, wg sync.WaitGroup
		started.Add(n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var once sync.Once
				results[i] = readStream(p.base, key, func() { once.Do(started.Done) })
			}()
		}
		started.Wait()
		// Cut mid-stream, then again as the streams end and their usage
		// is being committed.
		time.Sleep(time.Duration(200*w) * time.Millisecond)
		cut := terminateBackends(t, direct, app)
		time.Sleep(time.Second)
		cut += terminateBackends(t, direct, app)
		wg.Wait()
		t.Logf("wave %d: %d sessions ended", w, cut)
		seen = append(seen, results...)
	}
	// Service goes on.
	var after outcome
	waitFor(t, 30*time.Second, func() bool {
		after = chat(context.Background(), p.base, key, true, 16)
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
	billed := completedEvents(t, s)
	failed := failedEvents(t, s)
	unbilled := 0
	for i, r := range seen {
		if r.err != nil {
			t.Errorf("stream %d (%s): %v", i, r.id, r.err)
			continue
		}
		if r.status != http.StatusOK && (r.status != http.StatusServiceUnavailable || r.content > 0) {
			// A 503 before any content is the store refusing work while
			// it is known to fail: nothing was delivered.
			t.Errorf("stream %d (%s): status %d", i, r.id, r.status)
			continue
		}
		f, wasFailed := failed[r.id]
		charged := billed[r.id] == 1
		if r.content > 0 && !charged {
			unbilled++
			t.Errorf("stream %d (%s): %d content chunks delivered (done %t) but billed %d times, failed event %t %+v",
				i, r.id, r.content, r.done, billed[r.id], wasFailed, f)
		}
	}
	t.Logf("%d of %d streams delivered content and were not billed", unbilled, len(seen))
	checkBilled(t, s, []outcome{after}, served)
}
