package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestEachUpstreamKeyHasItsBreakerSeries serves a model from two keys at
// one provider, the first of which the provider refuses as over its quota:
// its breaker opens while the other key's stays closed, and /metrics shows
// each breaker in a series of its own, named by the upstream's place in the
// catalog and never by its key.
func TestEachUpstreamKeyHasItsBreakerSeries(t *testing.T) {
	up, err := url.Parse(fakeUpstream(t, providertest.Script{Text: "ok"}))
	if err != nil {
		t.Fatal(err)
	}
	relay := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: up.Scheme, Host: up.Host})
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer sk-spent" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"message":"quota exceeded","type":"insufficient_quota","code":"insufficient_quota"}}`))
			return
		}
		relay.ServeHTTP(w, r)
	}))
	t.Cleanup(provider.Close)

	cat := filepath.Join(t.TempDir(), "catalog.json")
	upstream := func(keyEnv string) string {
		return `{"provider": "fake", "kind": "openai", "base_url": "` + provider.URL + `/v1", "model": "echo", "key_env": "` + keyEnv + `"}`
	}
	if err := os.WriteFile(cat, []byte(`{"usd_to_ntd": "32.5", "margin": "0.05", "models": [{
		"id": "routefree/echo", "name": "echo", "context_length": 32768,
		"input_modalities": ["text"], "output_modalities": ["text"], "supported_parameters": ["max_tokens"],
		"usd_per_million": {"input": "1", "output": "2"},
		"upstreams": [`+upstream("FAKE_SPENT_KEY")+`, `+upstream("ROUTEFREE_FAKE_UPSTREAM_KEY")+`]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := baseEnv(up.String())
	store := []string{"--data-dir", t.TempDir()}
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	p := startServe(t, append(env, "ROUTEFREE_METRICS_INTERVAL=100ms", "FAKE_SPENT_KEY=sk-spent"),
		append(store, "--catalog", cat, "--breaker-threshold", "2")...)
	for i := range 3 {
		if st := chatStatus(p.base, key); st != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200 from the second key", i+1, st)
		}
	}
	spent := `routefree_breaker_state{model="routefree/echo",provider="fake",upstream="0"} 2`
	served := `routefree_breaker_state{model="routefree/echo",provider="fake",upstream="1"} 0`
	var lines []string
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		body := metricsText(t, p.base)
		if strings.Contains(body, "sk-spent") || strings.Contains(body, "sk-fake") {
			t.Fatal("/metrics shows an upstream key")
		}
		if strings.Contains(body, spent) && strings.Contains(body, served) {
			return
		}
		if time.Now().After(end) {
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(l, "routefree_breaker_state") {
					lines = append(lines, l)
				}
			}
			t.Fatalf("breaker series:\n%s\nwant\n%s\n%s", strings.Join(lines, "\n"), spent, served)
		}
	}
}
