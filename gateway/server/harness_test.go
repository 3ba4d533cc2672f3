package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/gateway/router"
	"github.com/routefree/routefree/projections"
)

// harness is a whole gateway on loopback: a real SQLite event store, the
// projections runner, fake upstreams speaking each provider's wire format.
type harness struct {
	t       *testing.T
	dir     string
	store   eventstore.Store
	models  *projections.Models
	runner  *projections.Runner
	cmds    *commands.Handler
	srv     *Server
	http    *httptest.Server
	running atomic.Int32 // requests in the handler
	ledger  admission.Ledger
	limiter admission.RateLimiter
	logs    *bytes.Buffer
	fakes   map[string]*providertest.Server
	account string
	key     string
	keyID   string
}

// upstreamSpec names a fake for a catalog model: kind plus an optional
// fixed base URL (to point at a dead port, say).
type upstreamSpec struct {
	fake    string // name in harness.fakes
	kind    string
	baseURL string
	region  string
	policy  *catalog.DataPolicy
	params  []string // the upstream's supported parameters
	model   string   // the upstream's name for the model; default "up-" + fake
	unset   bool     // its key variable is not set: the upstream is not configured
}

type harnessOpts struct {
	models   map[string][]upstreamSpec // model ID → upstreams in priority order
	scripts  map[string]providertest.Script
	kinds    map[string]string // fake name → kind
	credit   string            // initial top-up (default 1000)
	plan     domain.Plan
	prices   map[string]domain.ModelPrice // default: every model at 10/20/5 NTD per million
	cfg      Config
	ledger   admission.Ledger
	limiter  admission.RateLimiter
	store    eventstore.Store
	noKey    bool
	creditLm string
	maxDims  map[string]int      // model ID → the catalog's max_dimensions
	noLimits map[string]bool     // model IDs whose catalog entry gives no context length or max_output
	params   map[string][]string // model ID → the catalog's supported_parameters of the model
	inputs   map[string][]string // model ID → its input_modalities (default text, image, file)
	cats     map[string][]string // model ID → its catalog categories
	names    map[string]string   // model ID → its name (default the ID)
}

func defaultPrice() domain.ModelPrice {
	return domain.ModelPrice{Input: decimal.NewFromInt(10), Output: decimal.NewFromInt(20), CachedInput: decimal.NewFromInt(5)}
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	h := &harness{t: t, dir: cleanTempDir(t), logs: &bytes.Buffer{}, fakes: map[string]*providertest.Server{}}
	if o.models == nil {
		o.models = map[string][]upstreamSpec{
			"test/openai":    {{fake: "openai", kind: "openai"}},
			"test/anthropic": {{fake: "anthropic", kind: "anthropic"}},
			"test/gemini":    {{fake: "gemini", kind: "gemini"}},
		}
	}
	// Start the fakes the catalog names.
	for _, ups := range o.models {
		for _, u := range ups {
			if u.fake == "" || h.fakes[u.fake] != nil {
				continue
			}
			s := o.scripts[u.fake]
			if s.Text == "" && len(s.ToolCalls) == 0 && s.Status == 0 {
				s.Text = "Hello from the fake."
			}
			h.fakes[u.fake] = providertest.Start(u.kind, s)
			t.Cleanup(h.fakes[u.fake].Close)
		}
	}
	// The catalog: one entry per model, upstreams pointing at the fakes.
	type up struct {
		Provider string              `json:"provider"`
		Kind     string              `json:"kind"`
		BaseURL  string              `json:"base_url"`
		Model    string              `json:"model"`
		KeyEnv   string              `json:"key_env"`
		Region   string              `json:"region,omitempty"`
		Policy   *catalog.DataPolicy `json:"data_policy,omitempty"`
		Params   []string            `json:"supported_parameters,omitempty"`
	}
	var entries []map[string]any
	env := map[string]string{}
	for id, ups := range o.models {
		var list []up
		for i, u := range ups {
			base := u.baseURL
			if base == "" {
				base = h.fakes[u.fake].BaseURL
			}
			keyEnv := fmt.Sprintf("KEY_%d_%s", i, strings.ToUpper(u.fake))
			if !u.unset {
				env[keyEnv] = "upstream-secret"
			}
			name := u.model
			if name == "" {
				name = "up-" + u.fake
			}
			list = append(list, up{Provider: u.fake, Kind: u.kind, BaseURL: base, Model: name, KeyEnv: keyEnv,
				Region: u.region, Policy: u.policy, Params: u.params})
		}
		out := []string{"text"}
		if strings.Contains(id, "embedding") {
			out = []string{"embeddings"}
		}
		in, name := []string{"text", "image", "file"}, id
		if o.inputs[id] != nil {
			in = o.inputs[id]
		}
		if o.names[id] != "" {
			name = o.names[id]
		}
		entries = append(entries, map[string]any{"id": id, "name": name, "context_length": 100000,
			"input_modalities": in, "output_modalities": out, "categories": o.cats[id],
			"usd_per_million": map[string]string{"input": "1", "output": "1"}, "upstreams": list, "max_output": 4096,
			"max_dimensions": o.maxDims[id], "supported_parameters": o.params[id]})
		if o.noLimits[id] {
			delete(entries[len(entries)-1], "context_length")
			delete(entries[len(entries)-1], "max_output")
		}
	}
	catJSON, _ := json.Marshal(map[string]any{"usd_to_ntd": "32", "margin": "0", "models": entries})
	cat, err := catalog.Parse(catJSON)
	if err != nil {
		t.Fatal(err)
	}
	rt := router.New(cat, router.Options{Getenv: func(k string) string { return env[k] }, BreakerThreshold: 3, BreakerCooldown: time.Minute})

	if o.store != nil {
		h.store = o.store
	} else {
		st, err := sqlite.Open(filepath.Join(h.dir, "events.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		h.store = st
	}
	h.models = projections.NewModels(nil)
	h.runner, err = projections.NewRunner(h.store, watermill.NopLogger{}, h.models.All()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = h.runner.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-runDone
		if o.store == nil {
			h.store.Close()
		}
	})
	h.cmds = commands.New(h.store)

	prices := o.prices
	if prices == nil {
		prices = map[string]domain.ModelPrice{}
		for id := range o.models {
			prices[id] = defaultPrice()
		}
	}
	bg := context.Background()
	// The list takes effect an hour ago, before any test clock: published
	// then by a handler whose clock says so (a list cannot be backdated).
	anHourAgo := &commands.Handler{Store: h.store, Now: func() time.Time { return time.Now().Add(-time.Hour) }}
	if _, err := anHourAgo.PublishPrices(bg, prices, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if o.plan == "" {
		o.plan = domain.PlanStarter
	}
	limit := decimal.Zero
	if o.creditLm != "" {
		limit = decimal.RequireFromString(o.creditLm)
	}
	h.account, err = h.cmds.OpenAccount(bg, domain.AccountOpened{Organisation: "測試公司", TaxID: "04595257", Plan: o.plan, CreditLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	if o.credit == "" {
		o.credit = "1000"
	}
	if credit := decimal.RequireFromString(o.credit); !credit.Equal(credit.Truncate(0)) {
		// Top-ups are whole dollars: a fractional balance is an adjustment.
		if err := h.cmds.Adjust(bg, domain.CreditsAdjusted{AccountID: h.account, Amount: credit, Reason: "seed"}); err != nil {
			t.Fatal(err)
		}
	} else if o.credit != "0" {
		if _, err := h.cmds.TopUp(bg, domain.CreditsToppedUp{AccountID: h.account, Amount: credit, Method: domain.MethodBankTransfer, Reference: "seed"}); err != nil {
			t.Fatal(err)
		}
	}
	if !o.noKey {
		h.keyID, h.key, err = h.cmds.IssueKey(bg, domain.KeyIssued{AccountID: h.account, Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
	}
	h.catchUp()

	h.ledger, h.limiter = o.ledger, o.limiter
	if h.ledger == nil {
		h.ledger = admission.NewMemoryLedger(admission.LedgerOptions{})
	}
	if h.limiter == nil {
		h.limiter = admission.NewMemoryLimiter()
	}
	cfg := o.cfg
	cfg.Logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.srv = New(cfg, Deps{Store: h.store, Directory: Projected{M: h.models, Store: h.store}, Router: rt, Limiter: h.limiter, Ledger: h.ledger, Projections: h.runner})
	h.http = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.running.Add(1)
		defer h.running.Add(-1)
		h.srv.ServeHTTP(w, r)
	}))
	h.http.Listener = CutStalledWriters(h.http.Listener, h.srv.cfg.ClientWriteTimeout)
	h.http.Start()
	t.Cleanup(h.http.Close)
	return h
}

// cleanTempDir is a temporary directory whose path has no '#' or '?': the
// SQLite store builds a file: URI from the path, and t.TempDir of a fuzz
// seed ("FuzzX/seed#0") would cut it at '#', so that every run shared one
// file in /tmp.
func cleanTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "routefree-gateway-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// catchUp waits until every projection has applied the whole store.
func (h *harness) catchUp() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	last := eventstore.Start
	for pos := eventstore.Start; ; {
		evs, err := h.store.ReadAll(ctx, pos, 1000)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		pos = evs[len(evs)-1].Position
		last = pos
	}
	if err := h.runner.WaitFor(ctx, last); err != nil {
		h.t.Fatalf("projections did not catch up: %v", err)
	}
}

// post sends a chat request with the harness key.
func (h *harness) post(body string) (*http.Response, []byte) {
	h.t.Helper()
	return h.postKey(h.key, body)
}

func (h *harness) postKey(key, body string) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// events returns every stored event of a type, decoded.
func (h *harness) events(typ string) []domain.Event {
	h.t.Helper()
	var out []domain.Event
	for pos := eventstore.Start; ; {
		evs, err := h.store.ReadAll(context.Background(), pos, 1000)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		for _, e := range evs {
			if e.Type == typ {
				d, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
				if err != nil {
					h.t.Fatal(err)
				}
				out = append(out, d)
			}
		}
		pos = evs[len(evs)-1].Position
	}
}

// completed waits for the failure events written in the background and
// returns the request.completed events.
func (h *harness) completed() []*domain.RequestCompleted {
	var out []*domain.RequestCompleted
	for _, e := range h.events(domain.TypeRequestCompleted) {
		out = append(out, e.(*domain.RequestCompleted))
	}
	return out
}

func (h *harness) failed() []*domain.RequestFailed {
	var out []*domain.RequestFailed
	for _, e := range h.events(domain.TypeRequestFailed) {
		out = append(out, e.(*domain.RequestFailed))
	}
	return out
}

// errorBody decodes the error shape.
type errorBody struct {
	Error struct {
		Code     int            `json:"code"`
		Message  string         `json:"message"`
		Metadata map[string]any `json:"metadata"`
	} `json:"error"`
}

func decodeError(t *testing.T, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == 0 {
		t.Fatalf("not an error body: %s", b)
	}
	return e
}

// heldIsZero checks that no hold is left on the account.
func (h *harness) heldIsZero() {
	h.t.Helper()
	held, n, err := h.ledger.Held(context.Background(), h.account)
	if err != nil {
		h.t.Fatal(err)
	}
	if n != 0 || !held.IsZero() {
		h.t.Fatalf("holds left: %d totalling %s", n, held)
	}
}
