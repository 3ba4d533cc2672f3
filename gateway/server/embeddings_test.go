package server

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/gateway/tokens"
)

func embedHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	if o.models == nil {
		o.models = map[string][]upstreamSpec{
			"openai/text-embedding-3-small": {{fake: "openai", kind: "openai"}},
			"google/gemini-embedding-001":   {{fake: "gemini", kind: "gemini"}},
			"openai/gpt-4.1":                {{fake: "openai", kind: "openai"}},
		}
	}
	return newHarness(t, o)
}

func (h *harness) postEmbeddings(body string) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/embeddings", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func sameVector(t *testing.T, got any, want []float64) {
	t.Helper()
	g, ok := got.([]any)
	if !ok || len(g) != len(want) {
		t.Fatalf("vector %v, want %v", got, want)
	}
	for i := range want {
		if g[i].(float64) != want[i] {
			t.Fatalf("vector %v, want %v", got, want)
		}
	}
}

func TestEmbeddingsOpenAIBilledPerInputToken(t *testing.T) {
	h := embedHarness(t, harnessOpts{})
	resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":["台北 天氣 晴","hello world"],"dimensions":4}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	want(t, m, "object", "list")
	want(t, m, "model", "openai/text-embedding-3-small")
	want(t, m, "data.1.index", "1")
	want(t, m, "data.1.object", "embedding")
	v0, _ := jpath(m, "data.0.embedding")
	sameVector(t, v0, providertest.FakeVector("台北 天氣 晴", 4))
	v1, _ := jpath(m, "data.1.embedding")
	sameVector(t, v1, providertest.FakeVector("hello world", 4))
	// The fake counts words: 3 + 2.
	want(t, m, "usage.prompt_tokens", "5")
	want(t, m, "usage.total_tokens", "5")
	w := wire(t, h.fakes["openai"].Last())
	want(t, w, "model", "up-openai")
	want(t, w, "dimensions", "4")
	want(t, w, "input.0", "台北 天氣 晴")
	if h.fakes["openai"].Last().Path != "/v1/embeddings" {
		t.Fatalf("path %s", h.fakes["openai"].Last().Path)
	}
	h.noClientSecret(h.fakes["openai"].Last())
	// 5 input tokens at NT$10 per million; no completion, still billed.
	cost, _ := jpath(m, "usage.cost")
	ev := checkBilled(t, h, "openai/text-embedding-3-small", 5, 0, cost)
	if !ev.Cost.Equal(dec("0.00005")) || ev.Usage.Estimated || ev.Provider != "openai" {
		t.Fatalf("event %+v", ev)
	}
}

func TestEmbeddingsBase64AndTokenArrays(t *testing.T) {
	h := embedHarness(t, harnessOpts{})
	resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":[1,2,3],"encoding_format":"base64"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	s, _ := jpath(m, "data.0.embedding")
	raw, err := base64.StdEncoding.DecodeString(s.(string))
	if err != nil {
		t.Fatal(err)
	}
	wantV := providertest.FakeVector("[1,2,3]", 0)
	if len(raw) != 4*len(wantV) {
		t.Fatalf("%d bytes for %d floats", len(raw), len(wantV))
	}
	for i, f := range wantV {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != float32(f) {
			t.Fatalf("float %d: %v, want %v", i, got, float32(f))
		}
	}
	want(t, m, "usage.prompt_tokens", "3")
	// Upstreams are always asked for floats; the gateway encodes.
	want(t, wire(t, h.fakes["openai"].Last()), "encoding_format", "float")
}

func TestEmbeddingsGemini(t *testing.T) {
	h := embedHarness(t, harnessOpts{})
	texts := []string{"資料常駐", "the quick brown fox"}
	resp, b := h.postEmbeddings(`{"model":"google/gemini-embedding-001","input":["資料常駐","the quick brown fox"],"dimensions":6}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	for i, text := range texts {
		v, _ := jpath(m, "data."+string(rune('0'+i))+".embedding")
		sameVector(t, v, providertest.FakeVector(text, 6))
	}
	up := h.fakes["gemini"].Last()
	if up.Path != "/v1beta/models/up-gemini:batchEmbedContents" || up.Header.Get("x-goog-api-key") != "upstream-secret" {
		t.Fatalf("upstream got %s %v", up.Path, up.Header)
	}
	w := wire(t, up)
	want(t, w, "requests.1.model", "models/up-gemini")
	want(t, w, "requests.1.content.parts.0.text", "the quick brown fox")
	want(t, w, "requests.0.outputDimensionality", "6")
	// Gemini reports no usage: the offline tokenizer counts, marked estimated.
	n := int64(tokens.Count(texts[0]) + tokens.Count(texts[1]))
	cost, _ := jpath(m, "usage.cost")
	ev := checkBilled(t, h, "google/gemini-embedding-001", n, 0, cost)
	if !ev.Usage.Estimated {
		t.Fatal("usage counted by the gateway is not marked estimated")
	}
}

func TestEmbeddingsFailover(t *testing.T) {
	h := embedHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{"openai/text-embedding-3-small": {
			{fake: "openai", kind: "openai"}, {fake: "gemini", kind: "gemini"}}},
		scripts: map[string]providertest.Script{"openai": {Status: 503, ErrorMessage: "overloaded"}},
	})
	resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hi"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	ev := checkBilled(t, h, "openai/text-embedding-3-small", int64(tokens.Count("hi")), 0, nil)
	if ev.Provider != "gemini" || ev.Attempts != 2 {
		t.Fatalf("served by %s after %d attempts", ev.Provider, ev.Attempts)
	}
}

func TestEmbeddingsRefusals(t *testing.T) {
	h := embedHarness(t, harnessOpts{})
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"model":"openai/gpt-4.1","input":"hi"}`, 400},                   // a chat model
		{`{"model":"openai/text-embedding-3-small"}`, 400},                 // no input
		{`{"model":"openai/text-embedding-3-small","input":[]}`, 400},      // empty
		{`{"model":"openai/text-embedding-3-small","input":[""]}`, 400},    // empty text
		{`{"model":"openai/text-embedding-3-small","input":{"a":1}}`, 400}, // not an input
		{`{"model":"openai/text-embedding-3-small","input":"hi","encoding_format":"int8"}`, 400},
		{`{"model":"openai/text-embedding-3-small","input":"hi","dimensions":0}`, 400},
		{`{"model":"google/gemini-embedding-001","input":[[1,2]]}`, 400}, // Gemini takes text only
		{`{"model":"nope/nope","input":"hi"}`, 400},
	} {
		resp, b := h.postEmbeddings(tc.body)
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: status %d, want %d: %s", tc.body, resp.StatusCode, tc.status, b)
		}
		decodeError(t, b)
	}
	if len(h.completed()) != 0 {
		t.Fatal("a refused request was billed")
	}
	h.waitHeldZero()

	poor := embedHarness(t, harnessOpts{credit: "0"})
	resp, b := poor.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hi"}`)
	if resp.StatusCode != 402 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if len(poor.fakes["openai"].Received()) != 0 {
		t.Fatal("an upstream was called without credit")
	}
}

// An embedding model is no chat model: /chat/completions refuses it with a
// 400 naming the right endpoint, and no upstream is called.
func TestChatRefusesEmbeddingModels(t *testing.T) {
	h := embedHarness(t, harnessOpts{})
	resp, b := h.post(chatBody("openai/text-embedding-3-small", 10, false))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "/api/v1/embeddings") {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	for name, f := range h.fakes {
		if n := len(f.Received()); n != 0 {
			t.Fatalf("fake %s called %d times", name, n)
		}
	}
}

// dimensions is bounded before any upstream call: by the model's own
// maximum when the catalog gives one, else by a ceiling no model reaches.
func TestEmbeddingsDimensionsBounded(t *testing.T) {
	h := embedHarness(t, harnessOpts{maxDims: map[string]int{"google/gemini-embedding-001": 3072}})
	for _, tc := range []struct {
		model string
		dims  string
		max   string // the bound the message names
	}{
		{"openai/text-embedding-3-small", "8193", "8192"},
		{"openai/text-embedding-3-small", "1000000000", "8192"},
		{"openai/text-embedding-3-small", "-1", "8192"},
		{"google/gemini-embedding-001", "3073", "3072"},
		{"google/gemini-embedding-001", "1000000000", "3072"},
	} {
		body := `{"model":"` + tc.model + `","input":"hi","dimensions":` + tc.dims + `}`
		resp, b := h.postEmbeddings(body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d: %.200s", body, resp.StatusCode, b)
		}
		e := decodeError(t, b)
		if e.Error.Metadata["param"] != "dimensions" || !strings.Contains(e.Error.Message, "dimensions") ||
			!strings.Contains(e.Error.Message, tc.max) {
			t.Fatalf("%s: %s", body, b)
		}
	}
	for name, f := range h.fakes {
		if n := len(f.Received()); n != 0 {
			t.Fatalf("fake %s called %d times", name, n)
		}
	}
	if len(h.completed()) != 0 {
		t.Fatal("a refused request was billed")
	}
	for _, f := range h.failed() {
		if f.Attempts != 0 || f.Status != http.StatusBadRequest {
			t.Fatalf("refusal recorded as %+v", f)
		}
	}
	h.waitHeldZero()

	// The bounds themselves are served.
	for _, body := range []string{
		`{"model":"openai/text-embedding-3-small","input":"hi","dimensions":8192}`,
		`{"model":"google/gemini-embedding-001","input":"hi","dimensions":3072}`,
	} {
		if resp, b := h.postEmbeddings(body); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %.200s", body, resp.StatusCode, b)
		}
	}
}

// OpenRouter lists its embedding models at GET /api/v1/embeddings/models
// (the OpenRouter SDK's embeddings.listModels), in /models' shape; it
// answered 404.
func TestEmbeddingModelsAreListed(t *testing.T) {
	h := embedHarness(t, harnessOpts{})
	code, list := h.getJSON("/api/v1/embeddings/models", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/embeddings/models: %d %v", code, list)
	}
	data, _ := list["data"].([]any)
	var ids []string
	for _, d := range data {
		m := d.(map[string]any)
		ids = append(ids, m["id"].(string))
		arch := m["architecture"].(map[string]any)
		if out, _ := arch["output_modalities"].([]any); len(out) != 1 || out[0] != "embeddings" {
			t.Errorf("%s lists output modalities %v", m["id"], arch["output_modalities"])
		}
		if _, ok := m["pricing"].(map[string]any)["prompt"].(string); !ok {
			t.Errorf("%s has no prompt price", m["id"])
		}
	}
	if strings.Join(ids, ",") != "google/gemini-embedding-001,openai/text-embedding-3-small" {
		t.Fatalf("embedding models listed: %v", ids)
	}
	if fmt.Sprint(list["total_count"]) != "2" {
		t.Errorf("total_count %v", list["total_count"])
	}
}

// OpenRouter's GET /api/v1/generation/content gives a request's prompt and
// completion, which RouteFree never stores: it answered a bare 404 "Not
// Found", as for a mistyped path. It now says why, to a valid key.
func TestGenerationContentIsNeverStored(t *testing.T) {
	h := embedHarness(t, harnessOpts{})
	code, body := h.getJSON("/api/v1/generation/content?id=gen-1", h.key)
	if code != http.StatusNotFound || !strings.Contains(fmt.Sprint(body["error"]), "never stores") {
		t.Fatalf("GET /api/v1/generation/content: %d %v", code, body)
	}
	if code, _ := h.getJSON("/api/v1/generation/content?id=gen-1", ""); code != http.StatusUnauthorized {
		t.Fatalf("without a key: %d", code)
	}
}

// Token arrays with negative token IDs, or IDs past what any tokenizer
// numbers (2³¹ − 1), went upstream as sent, and the upstream's refusal came
// back after a credit hold. They are refused first with a 400 that names
// the input (its index in the answer's data), billed nothing and recorded
// as a refused body.
func TestEmbeddingsRefuseInvalidTokenIDsNamingTheInput(t *testing.T) {
	h := embedHarness(t, harnessOpts{})
	cases := []struct {
		input, message string
		index          float64
	}{
		{`[5,-1,7]`, "input[0]: token ID -1 at position 1 is invalid; token IDs are whole numbers from 0 to 2147483647", 0},
		{`[[1,2],[3,4],[0,-9]]`, "input[2]: token ID -9 at position 1 is invalid; token IDs are whole numbers from 0 to 2147483647", 2},
		{`[[1],[2147483648]]`, "input[1]: token ID 2147483648 at position 0 is invalid; token IDs are whole numbers from 0 to 2147483647", 1},
	}
	for i, c := range cases {
		resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":` + c.input + `}`)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d: %s", c.input, resp.StatusCode, b)
		}
		e := decodeError(t, b)
		if e.Error.Code != 400 || e.Error.Message != c.message || e.Error.Metadata["param"] != "input" || e.Error.Metadata["index"] != c.index {
			t.Fatalf("%s: error %s", c.input, b)
		}
		f := h.waitFailed(i + 1)
		if last := f[len(f)-1]; last.Status != http.StatusBadRequest || last.Outcome != domain.OutcomeRejected || last.KeyID != h.keyID {
			t.Fatalf("%s: recorded as %+v", c.input, last)
		}
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("the upstream got %d requests", n)
	}
	if c := h.completed(); len(c) != 0 {
		t.Fatalf("refused requests billed: %+v", c)
	}
	h.heldIsZero()
	// The largest ID and zero still go through.
	resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":[[0,2147483647]]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
}
