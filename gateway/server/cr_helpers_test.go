package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/projections"
)

// Helpers for the credits, limits and pricing tests (cr_ = credits/rates).

// eventually polls cond until it holds or 10 s pass: work that ends after
// the response (a failure event, a disconnected handler's cleanup) is
// waited for, never slept on.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitHeldZero waits until every handler has let go of its hold, then
// checks it (a disconnected client's handler may still be unwinding).
func (h *harness) waitHeldZero() {
	h.t.Helper()
	eventually(h.t, "holds to return to zero", func() bool {
		held, n, err := h.ledger.Held(context.Background(), h.account)
		return err == nil && n == 0 && held.IsZero()
	})
	h.heldIsZero()
}

// waitFailed waits for n request.failed events (they are appended in the
// background) and returns them.
func (h *harness) waitFailed(n int) []*domain.RequestFailed {
	h.t.Helper()
	var out []*domain.RequestFailed
	eventually(h.t, fmt.Sprintf("%d request.failed events", n), func() bool {
		out = h.failed()
		return len(out) >= n
	})
	if len(out) != n {
		h.t.Fatalf("%d request.failed events, want %d", len(out), n)
	}
	return out
}

// balance is the account's balance in the projection, once caught up.
func (h *harness) balance() decimal.Decimal {
	h.t.Helper()
	h.catchUp()
	v, ok := h.models.Balances.View(h.account, "", time.Now())
	if !ok {
		h.t.Fatal("account not in the balances projection")
	}
	return v.Balance
}

// replayBalance is the account's balance from a full replay of history.
func (h *harness) replayBalance() decimal.Decimal {
	h.t.Helper()
	f, err := projections.Replay(context.Background(), h.store, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return f.Balances[h.account]
}

// changePlan applies a plan change and waits for the projections.
func (h *harness) changePlan(pc domain.PlanChanged) {
	h.t.Helper()
	pc.AccountID = h.account
	if err := h.cmds.ChangePlan(context.Background(), pc); err != nil {
		h.t.Fatal(err)
	}
	h.catchUp()
}

// limits are the key's limits as the gateway sees them.
func (h *harness) limits() admission.Limits {
	h.t.Helper()
	k, ok := Projected{M: h.models}.Key(commands.HashKey(h.key))
	if !ok {
		h.t.Fatal("key not in the projection")
	}
	return k.Limits
}

// tokensBack proves that the key's token window holds exactly the actual
// usage of its billed requests: every failed request gave its estimate
// back. Needs the frozen clock (no refill): with used tokens counted, a
// request of TPM − used fits, and then not one token more. A refused admit
// takes nothing, so the first probe may be retried while a handler that
// already answered is still giving its estimate back.
func (h *harness) tokensBack(now time.Time) {
	h.t.Helper()
	var used int64
	for _, e := range h.completed() {
		used += e.Usage.Total()
	}
	l := admission.Limits{TPM: h.limits().TPM} // RPM is not what is measured
	if l.TPM <= used {
		h.t.Fatalf("tokensBack needs TPM %d above the %d tokens used", l.TPM, used)
	}
	ctx := context.Background()
	admit := func(n int64) bool {
		d, err := h.limiter.Admit(ctx, h.keyID, l, n, now)
		if err != nil {
			h.t.Fatal(err)
		}
		return d.Allowed
	}
	eventually(h.t, fmt.Sprintf("the token window to hold only the %d tokens used", used), func() bool {
		return admit(l.TPM - used)
	})
	if admit(1) {
		h.t.Fatalf("the token window held less than the %d tokens used", used)
	}
}

// chatBody is a one-message chat request; maxTokens 0 leaves it out.
func chatBody(model string, maxTokens int, stream bool) string {
	var b strings.Builder
	b.WriteString(`{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]`)
	if maxTokens > 0 {
		b.WriteString(`,"max_tokens":` + strconv.Itoa(maxTokens))
	}
	if stream {
		b.WriteString(`,"stream":true,"stream_options":{"include_usage":true}`)
	}
	b.WriteString("}")
	return b.String()
}

// frozenClock is a gateway clock that stands still, so rate-limit windows
// are exact: GCRA never refills between two requests of a test.
func frozenClock() func() time.Time {
	t := time.Now()
	return func() time.Time { return t }
}

func price(in, out, cached, reasoning string) domain.ModelPrice {
	d := func(s string) decimal.Decimal {
		if s == "" {
			return decimal.Zero
		}
		return decimal.RequireFromString(s)
	}
	return domain.ModelPrice{Input: d(in), Output: d(out), CachedInput: d(cached), Reasoning: d(reasoning)}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// instance is a second gateway process: its own store connection,
// projections, admission clients and HTTP server, over shared services.
type instance struct {
	t      *testing.T
	store  eventstore.Store
	models *projections.Models
	runner *projections.Runner
	srv    *Server
	http   *httptest.Server
}

// addInstance starts another gateway next to h, with the same catalog and
// upstreams, reading history from store.
func (h *harness) addInstance(store eventstore.Store, ledger admission.Ledger, limiter admission.RateLimiter, cfg Config) *instance {
	t := h.t
	t.Helper()
	in := &instance{t: t, store: store, models: projections.NewModels(nil)}
	var err error
	in.runner, err = projections.NewRunner(store, watermill.NopLogger{}, in.models.All()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = in.runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	cfg.Logger = slog.New(slog.DiscardHandler)
	in.srv = New(cfg, Deps{Store: store, Directory: Projected{M: in.models}, Router: h.srv.deps.Router, Limiter: limiter, Ledger: ledger})
	in.http = httptest.NewServer(in.srv)
	t.Cleanup(in.http.Close)
	in.catchUp()
	return in
}

func (in *instance) catchUp() {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	last := eventstore.Start
	for pos := eventstore.Start; ; {
		evs, err := in.store.ReadAll(ctx, pos, 1000)
		if err != nil {
			in.t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		pos = evs[len(evs)-1].Position
		last = pos
	}
	if err := in.runner.WaitFor(ctx, last); err != nil {
		in.t.Fatalf("second instance's projections did not catch up: %v", err)
	}
}

// sharedServices opens what two gateway instances share: one PostgreSQL
// schema (two Store objects, as two processes would have) and one Redis
// key prefix (two clients). Everything is closed and deleted at the end.
type sharedServices struct {
	stores   [2]eventstore.Store
	ledgers  [2]admission.Ledger
	limiters [2]admission.RateLimiter
}

func openShared(t *testing.T) *sharedServices {
	t.Helper()
	pgURL := testenv.PostgresURL(t)
	redisURL, prefix := testenv.RedisURL(t)
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	s := &sharedServices{}
	var clients []*redis.Client
	for i := range 2 {
		st, err := postgres.Open(context.Background(), pgURL, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.stores[i] = st
		c := redis.NewClient(opt)
		clients = append(clients, c)
		s.ledgers[i] = admission.NewRedisLedger(c, prefix, admission.LedgerOptions{})
		s.limiters[i] = admission.NewRedisLimiter(c, prefix)
	}
	if err := clients[0].Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis ping: %v", err)
	}
	// Registered first, so it runs after the harness and instances stop.
	t.Cleanup(func() {
		for i := range 2 {
			_ = clients[i].Close()
			s.stores[i].Close()
		}
	})
	return s
}

// postTo sends a chat request with key to a gateway URL.
func postTo(url, key, body string) (int, http.Header, []byte, error) {
	req, _ := http.NewRequest("POST", url+"/api/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// burst sends n copies of body at once to each URL and counts statuses.
func burst(t *testing.T, urls []string, key, body string, n int) map[int]int {
	t.Helper()
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, u := range urls {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				status, _, b, err := postTo(u, key, body)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("request: %v", err)
					return
				}
				if status != 200 && status != 402 && status != 429 {
					t.Errorf("unexpected status %d: %s", status, b)
				}
				counts[status]++
			}()
		}
	}
	close(start)
	wg.Wait()
	return counts
}
