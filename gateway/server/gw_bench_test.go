package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/gateway/router"
	"github.com/routefree/routefree/projections"
)

// benchGateway is the gateway as `routefree serve` runs it (SQLite store
// with synchronous=FULL, projections, memory limiter and ledger) in front
// of a loopback upstream. It returns the handler and key.
func benchGateway(b *testing.B, chunks int) (http.Handler, string) {
	b.Helper()
	fake := recordedUpstream(b, chunks)
	cat, err := catalog.Parse([]byte(`{"usd_to_ntd":"32","margin":"0","models":[{"id":"bench/echo","name":"echo","context_length":32768,
		"input_modalities":["text"],"output_modalities":["text"],"usd_per_million":{"input":"1","output":"1"},"max_output":4096,
		"upstreams":[{"provider":"fake","kind":"openai","base_url":"` + fake.URL + `/v1","model":"echo","key_env":"K"}]}]}`))
	if err != nil {
		b.Fatal(err)
	}
	rt := router.New(cat, router.Options{Getenv: func(string) string { return "x" }})
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	models := projections.NewModels(nil)
	runner, err := projections.NewRunner(st, watermill.NopLogger{}, models.All()...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done; st.Close() })

	cmds := commands.New(st)
	bg := context.Background()
	price := domain.ModelPrice{Input: decimal.NewFromInt(10), Output: decimal.NewFromInt(20), CachedInput: decimal.NewFromInt(5)}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	cmds.MaxTopUp = decimal.NewFromInt(1e8)
	_, err = cmds.PublishPrices(bg, map[string]domain.ModelPrice{"bench/echo": price}, time.Time{})
	must(err)
	acct, err := cmds.OpenAccount(bg, domain.AccountOpened{Organisation: "壓測", Plan: domain.PlanEnterprise})
	must(err)
	must(cmds.ChangePlan(bg, domain.PlanChanged{AccountID: acct, Plan: domain.PlanEnterprise, RPM: 1e9, TPM: 1e12, CreditLimit: decimal.NewFromInt(1e8)}))
	_, err = cmds.TopUp(bg, domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(1e8), Method: domain.MethodAdjustment, Reference: "bench"})
	must(err)
	_, key, err := cmds.IssueKey(bg, domain.KeyIssued{AccountID: acct, Name: "bench"})
	must(err)
	srv := New(Config{}, Deps{Store: st, Directory: Projected{M: models}, Router: rt,
		Limiter: admission.NewMemoryLimiter(), Ledger: admission.NewMemoryLedger(admission.LedgerOptions{})})
	// Wait until the projections know the key.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if w := benchPost(srv, key, `{"model":"bench/echo","messages":[{"role":"user","content":"x"}]}`); w.Code == 200 {
			break
		} else if time.Now().After(deadline) {
			b.Fatalf("gateway not ready: %d %s", w.Code, w.Body)
		}
	}
	return srv, key
}

// recordedUpstream is a loopback OpenAI upstream that answers with the
// bytes the scripted fake gave once, unary or streamed as asked: its own
// work per request is net/http's alone, so the benchmark's allocations are
// the gateway's (with the test's request and recorder, and the upstream
// server's connection handling).
func recordedUpstream(b *testing.B, chunks int) *httptest.Server {
	b.Helper()
	fake := providertest.StartFake(providertest.NewFake("openai", providertest.Script{
		Text: "Hello from the fake upstream. RouteFree is relaying this reply.", Chunks: chunks,
		Usage: providertest.Usage{Prompt: 10, Completion: chunks}}, false))
	defer fake.Close()
	record := func(body string) (string, []byte) {
		req, _ := http.NewRequest("POST", fake.BaseURL+"/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("recording the fake: %v %d %s", err, resp.StatusCode, out)
		}
		return resp.Header.Get("Content-Type"), out
	}
	unaryType, unary := record(`{"model":"echo","messages":[{"role":"user","content":"x"}]}`)
	streamType, stream := record(`{"model":"echo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`)
	streamed := []byte(`"stream":true`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ct, out := unaryType, unary
		if bytes.Contains(body, streamed) {
			ct, out = streamType, stream
		}
		w.Header()["Content-Type"] = []string{ct}
		_, _ = w.Write(out)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchPost(h http.Handler, key, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/api/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func benchChat(b *testing.B, chunks int, body string) {
	h, key := benchGateway(b, chunks)
	b.ReportAllocs()
	before := spent(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w := benchPost(h, key, body); w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
	b.StopTimer()
	// The process's CPU time per request (gateway, upstream, projections):
	// on a shared machine it moves far less than the wall-clock ns/op. Its
	// context switches per request (every thread's, voluntary or not) count
	// the times a thread slept and woke, which a virtual machine makes dear.
	after := spent(b)
	b.ReportMetric(float64(after.cpu-before.cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(after.switches-before.switches)/float64(b.N), "cs/op")
}

// spentSoFar is what the process has spent so far.
type spentSoFar struct {
	cpu      time.Duration
	switches int64
}

// spent reads the process's user and system CPU time and its context
// switches, summed over its threads.
func spent(b *testing.B) spentSoFar {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return spentSoFar{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), switches: ru.Nvcsw + ru.Nivcsw}
}

// BenchmarkChatUnary: one non-streaming request end to end, billed durably.
// Run with -cpu 1 for the one-client figure, -cpu 16 for concurrency; with
// -benchmem, allocs/op are the allocations of one request.
func BenchmarkChatUnary(b *testing.B) {
	benchChat(b, 1, `{"model":"bench/echo","messages":[{"role":"user","content":"Say hello to the load test, please."}]}`)
}

// BenchmarkChatStream16: a streamed reply of 16 chunks with usage.
func BenchmarkChatStream16(b *testing.B) {
	benchChat(b, 16, `{"model":"bench/echo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello to the load test, please."}]}`)
}
