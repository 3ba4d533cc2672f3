package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// fallbackHarness: test/down's one upstream fails with status (0: answers),
// test/cheap and test/dear answer; test/dear costs ten times test/cheap.
func fallbackHarness(t *testing.T, status int, credit string) *harness {
	cheap := domain.ModelPrice{Input: decimal.NewFromInt(10), Output: decimal.NewFromInt(20), CachedInput: decimal.NewFromInt(5)}
	dear := domain.ModelPrice{Input: decimal.NewFromInt(100), Output: decimal.NewFromInt(200), CachedInput: decimal.NewFromInt(50)}
	return newHarness(t, harnessOpts{
		credit: credit,
		models: map[string][]upstreamSpec{
			"test/down":  {{fake: "down", kind: "openai"}},
			"test/cheap": {{fake: "cheap", kind: "anthropic"}},
			"test/dear":  {{fake: "dear", kind: "gemini"}},
		},
		scripts: map[string]providertest.Script{
			"down":  {Status: status, ErrorMessage: "down says no", Text: "from down"},
			"cheap": {Text: "from cheap", Chunks: 2, Usage: providertest.Usage{Prompt: 1000, Completion: 100}},
			"dear":  {Text: "from dear", Chunks: 2, Usage: providertest.Usage{Prompt: 1000, Completion: 100}},
		},
		prices: map[string]domain.ModelPrice{"test/down": cheap, "test/cheap": cheap, "test/dear": dear},
	})
}

// OpenRouter's models list: after every upstream of the model failed, the
// next model answers, and the request is billed at its price, named in the
// response, the stream's chunks and the event.
func TestModelsFallbackListIsTriedInOrder(t *testing.T) {
	h := fallbackHarness(t, http.StatusServiceUnavailable, "")
	for _, stream := range []bool{false, true} {
		s := ""
		if stream {
			s = `"stream":true,`
		}
		resp, b := h.post(`{"model":"test/down","models":["test/dear","test/cheap"],` + s + `"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream=%v: %d %s", stream, resp.StatusCode, b)
		}
		if !stream && !strings.Contains(string(b), "from dear") {
			t.Fatalf("stream=%v: not answered by test/dear: %s", stream, b)
		}
		if stream {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "data: {") && !strings.Contains(line, `"model":"test/dear"`) {
					t.Fatalf("chunk names another model: %s", line)
				}
			}
			b = lastUsageChunk(t, b)
		}
		var r struct {
			Model string   `json:"model"`
			Usage *orUsage `json:"usage"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.Usage == nil {
			t.Fatalf("%v %s", err, b)
		}
		// test/dear's price: (1000 × 100 + 100 × 200) / 1e6 = 0.12.
		r.Usage.check(t, "0.12")
		if !stream && r.Model != "test/dear" {
			t.Fatalf("model %q", r.Model)
		}
	}
	if n := len(h.fakes["cheap"].Received()); n != 0 {
		t.Fatalf("the third model was tried %d times", n)
	}
	if n := len(h.fakes["dear"].Received()); n != 2 {
		t.Fatalf("the second model answered %d times, want 2", n)
	}
	if n := len(h.fakes["down"].Received()); n != 2 {
		t.Fatalf("the first model was tried %d times, want 2", n)
	}
	evs := h.completed()
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	for _, e := range evs {
		if e.Model != "test/dear" || e.Provider != "dear" || !e.Cost.Equal(decimal.RequireFromString("0.12")) || e.Attempts != 2 {
			t.Fatalf("event %+v", e)
		}
	}
	h.heldIsZero()
	// Without model, the list's first entry is the model.
	resp, b := h.post(`{"models":["test/cheap","test/dear"],"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"model":"test/cheap"`) {
		t.Fatalf("models without model: %d %s", resp.StatusCode, b)
	}
}

// As OpenRouter has it, any error of a model lets the next of the models
// list answer, a refusal of the input among them: a context too long for
// the first model fits the next. The request is billed at the price of the
// model that answered; the refusal costs nothing.
func TestModelsFallbackFollowsRefusals(t *testing.T) {
	h := fallbackHarness(t, http.StatusBadRequest, "")
	for _, stream := range []string{"", `"stream":true,`} {
		resp, b := h.post(`{"model":"test/down","models":["test/cheap"],` + stream + `"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "from") || !strings.Contains(string(b), `"model":"test/cheap"`) {
			t.Fatalf("%s: %d %s", stream, resp.StatusCode, b)
		}
	}
	if n := len(h.fakes["down"].Received()); n != 2 {
		t.Fatalf("test/down called %d times, want 2", n)
	}
	c := h.completed()
	if len(c) != 2 || c[0].Model != "test/cheap" || c[1].Model != "test/cheap" {
		t.Fatalf("billed %+v", c)
	}
	// When every model refuses, the client gets the last refusal, a 400
	// naming the models tried, and nothing is billed.
	h.fakes["cheap"].SetScript(providertest.Script{Status: http.StatusBadRequest, ErrorMessage: "prompt is too long"})
	resp, b := h.post(`{"model":"test/down","models":["test/cheap"],"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("all refused: %d %s", resp.StatusCode, b)
	}
	e := decodeError(t, b)
	if tried, _ := json.Marshal(e.Error.Metadata["models_tried"]); string(tried) != `["test/down","test/cheap"]` ||
		!strings.Contains(e.Error.Message, "prompt is too long") {
		t.Fatalf("all refused: %s", b)
	}
	if len(h.completed()) != 2 {
		t.Fatal("a refused request was billed")
	}
}

func TestModelsFallbackAllFail(t *testing.T) {
	h := fallbackHarness(t, http.StatusBadRequest, "")
	// When every model fails, the error names them.
	h.fakes["down"].SetScript(providertest.Script{Status: 503})
	h.fakes["cheap"].SetScript(providertest.Script{Status: 529})
	resp, b := h.post(`{"model":"test/down","models":["test/cheap"],"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("all failed: %d %s", resp.StatusCode, b)
	}
	e := decodeError(t, b)
	if tried, _ := json.Marshal(e.Error.Metadata["models_tried"]); string(tried) != `["test/down","test/cheap"]` {
		t.Fatalf("models_tried %s in %s", tried, b)
	}
	if len(h.completed()) != 0 {
		t.Fatal("a failed request was billed")
	}
	h.heldSoonZero()
}

// Every model of the list is checked before anything is held or called, and
// the hold covers the dearest of them, since any may answer.
func TestModelsFallbackIsCheckedAndHeldUpFront(t *testing.T) {
	h := fallbackHarness(t, 0, "1")
	for body, status := range map[string]int{
		`"models":["nobody/none"]`:   http.StatusBadRequest,
		`"models":"test/cheap"`:      http.StatusBadRequest,
		`"models":["test/cheap",""]`: http.StatusBadRequest,
		`"models":["a/1","a/2","a/3","a/4","a/5","a/6","a/7","a/8","a/9","a/10"]`: http.StatusBadRequest,
		`"max_tokens":5000,"models":["test/cheap"]`:                               http.StatusBadRequest,
	} {
		resp, b := h.post(`{"model":"test/down",` + body + `,"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != status {
			t.Fatalf("%s: %d %s", body, resp.StatusCode, b)
		}
		decodeError(t, b)
	}
	// max_tokens 4,000: test/cheap's hold is (10 × 10 + 4,000 × 20) / 1e6 ≈ 0.08,
	// test/dear's (10 × 100 + 4,000 × 200) / 1e6 = 0.801; with NT$1 both fit
	// alone, and the hold is the dearer one's.
	resp, b := h.post(`{"model":"test/cheap","models":["test/dear"],"max_tokens":4000,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp, b = h.post(`{"model":"test/cheap","models":["test/dear"],"max_tokens":4096,"messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`)
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("hold beyond the balance: %d %s", resp.StatusCode, b)
	}
	// (2,008 × 100 + 4,096 × 200) / 1e6 = 1.02
	if e := decodeError(t, b); e.Error.Metadata["required"] != "1.02" {
		t.Fatalf("required %v", e.Error.Metadata["required"])
	}
	for _, f := range []string{"down", "cheap", "dear"} {
		if f != "cheap" && len(h.fakes[f].Received()) != 0 {
			t.Fatalf("%s called", f)
		}
	}
}
