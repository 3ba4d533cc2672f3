package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// What OpenRouter's clients (its SDK, the AI SDK's provider, LangChain)
// read in a response, checked field by field with the types they validate.

// orUsage is usage as OpenRouter sends it; json.Number keeps the numbers
// exact, and a string where a number belongs fails the decode.
type orUsage struct {
	PromptTokens        *int `json:"prompt_tokens"`
	CompletionTokens    *int `json:"completion_tokens"`
	TotalTokens         *int `json:"total_tokens"`
	PromptTokensDetails *struct {
		CachedTokens *int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens *int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	Cost        *json.Number `json:"cost"`
	IsBYOK      *bool        `json:"is_byok"`
	CostDetails *struct {
		UpstreamInferenceCost            json.RawMessage `json:"upstream_inference_cost"`
		UpstreamInferencePromptCost      *json.Number    `json:"upstream_inference_prompt_cost"`
		UpstreamInferenceCompletionsCost *json.Number    `json:"upstream_inference_completions_cost"`
	} `json:"cost_details"`
}

// check verifies every field is there with its type, and that the cost and
// its split agree with want.
func (u *orUsage) check(t *testing.T, want string) {
	t.Helper()
	if u.PromptTokens == nil || u.CompletionTokens == nil || u.TotalTokens == nil ||
		u.PromptTokensDetails == nil || u.PromptTokensDetails.CachedTokens == nil ||
		u.CompletionTokensDetails == nil || u.CompletionTokensDetails.ReasoningTokens == nil {
		t.Fatalf("token fields missing: %+v", u)
	}
	if u.Cost == nil || u.IsBYOK == nil || *u.IsBYOK || u.CostDetails == nil ||
		string(u.CostDetails.UpstreamInferenceCost) != "null" ||
		u.CostDetails.UpstreamInferencePromptCost == nil || u.CostDetails.UpstreamInferenceCompletionsCost == nil {
		t.Fatalf("cost fields: %+v", u)
	}
	cost := decimal.RequireFromString(u.Cost.String())
	if !cost.Equal(decimal.RequireFromString(want)) {
		t.Fatalf("cost %s, want %s", cost, want)
	}
	p := decimal.RequireFromString(u.CostDetails.UpstreamInferencePromptCost.String())
	c := decimal.RequireFromString(u.CostDetails.UpstreamInferenceCompletionsCost.String())
	if !p.Add(c).Equal(cost) {
		t.Fatalf("prompt %s + completions %s ≠ cost %s", p, c, cost)
	}
}

// usage.cost is a JSON number (it was a string, which OpenRouter's SDK and
// the AI SDK refuse), with is_byok and cost_details beside it, for every
// kind of upstream, streamed or not. The ledger keeps the exact decimal;
// the response shows it rounded to 8 places.
func TestUsageHasOpenRoutersShape(t *testing.T) {
	fine := domain.ModelPrice{Input: decimal.RequireFromString("0.123456789"), Output: decimal.RequireFromString("20"),
		CachedInput: decimal.RequireFromString("0.05")}
	h := newHarness(t, harnessOpts{
		scripts: map[string]providertest.Script{
			"openai":    {Text: "a b", Chunks: 2, Usage: providertest.Usage{Prompt: 1000, Completion: 20, Cached: 100}},
			"anthropic": {Text: "a b", Chunks: 2, Usage: providertest.Usage{Prompt: 1000, Completion: 20}},
			"gemini":    {Text: "a b", Chunks: 2, Usage: providertest.Usage{Prompt: 1000, Completion: 20}},
		},
		prices: map[string]domain.ModelPrice{"test/openai": fine, "test/anthropic": defaultPrice(), "test/gemini": defaultPrice()},
	})
	// (900 × 0.123456789 + 100 × 0.05 + 20 × 20) / 1e6 = 0.0005161111101, shown as 0.00051611.
	wants := map[string]string{"openai": "0.00051611", "anthropic": "0.0104", "gemini": "0.0104"}
	for _, kind := range kinds {
		for _, stream := range []bool{false, true} {
			resp, b := h.post(chatBody("test/"+kind, 100, stream))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", kind, resp.StatusCode, b)
			}
			if stream {
				b = lastUsageChunk(t, b)
			}
			var r struct {
				Usage *orUsage `json:"usage"`
			}
			if err := json.Unmarshal(b, &r); err != nil || r.Usage == nil {
				t.Fatalf("%s stream=%v: %v %s", kind, stream, err, b)
			}
			r.Usage.check(t, wants[kind])
		}
	}
	for _, e := range h.completed() {
		if e.Model == "test/openai" && !e.Cost.Equal(decimal.RequireFromString("0.0005161111101")) {
			t.Fatalf("ledger cost %s, want the exact 0.0005161111101", e.Cost)
		}
	}
	// The official OpenAI client reads the same number.
	client := h.sdk()
	out, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "test/anthropic", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	var cost float64
	if err := json.Unmarshal([]byte(out.Usage.JSON.ExtraFields["cost"].Raw()), &cost); err != nil || cost != 0.0104 {
		t.Fatalf("SDK usage.cost %q: %v", out.Usage.JSON.ExtraFields["cost"].Raw(), err)
	}
}

// lastUsageChunk returns the stream's usage chunk, checking that it comes
// last, just before [DONE].
func lastUsageChunk(t *testing.T, body []byte) []byte {
	t.Helper()
	var data []string
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "data: ") {
			data = append(data, line[6:])
		}
	}
	if len(data) < 2 || data[len(data)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %s", body)
	}
	last := data[len(data)-2]
	var c struct {
		Choices []json.RawMessage `json:"choices"`
		Usage   json.RawMessage   `json:"usage"`
	}
	if err := json.Unmarshal([]byte(last), &c); err != nil || len(c.Usage) == 0 || c.Choices == nil || len(c.Choices) != 0 {
		t.Fatalf("the chunk before [DONE] is not a usage chunk: %s", last)
	}
	return []byte(last)
}

// Every stream ends with a usage chunk, asked for or not, as OpenRouter's
// do; usage:{include:true} is accepted (and never sent upstream).
func TestEveryStreamEndsWithUsage(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanBusiness}) // 15 requests: above the starter's 10 a minute
	for _, kind := range kinds {
		for name, extra := range map[string]string{
			"not asked":           ``,
			"usage include":       `"usage":{"include":true},`,
			"include_usage false": `"stream_options":{"include_usage":false},`,
			"include_usage true":  `"stream_options":{"include_usage":true},`,
			"usage include false": `"usage":{"include":false},`,
		} {
			resp, b := h.post(`{"model":"test/` + kind + `","stream":true,` + extra + `"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d %s", kind, name, resp.StatusCode, b)
			}
			var r struct {
				Usage *orUsage `json:"usage"`
			}
			if err := json.Unmarshal(lastUsageChunk(t, b), &r); err != nil || r.Usage == nil || *r.Usage.PromptTokens != 10 {
				t.Fatalf("%s %s: usage %v", kind, name, err)
			}
			if strings.Contains(string(h.fakes[kind].Last().Body), `"include"`) {
				t.Fatalf("usage option sent upstream: %s", h.fakes[kind].Last().Body)
			}
		}
	}
}

// system_fingerprint is always in a response: the upstream's when it sends
// one, null when it has none (Anthropic, Gemini). A chunk carries it as a
// string or not at all, as OpenRouter's chunk schema has it (never null).
func TestSystemFingerprintIsAlwaysPresent(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "a b c", Chunks: 3}, "anthropic": {Text: "a b c", Chunks: 3}, "gemini": {Text: "a b c", Chunks: 3},
	}})
	want := map[string]string{"openai": `"fp_fake"`, "anthropic": "null", "gemini": "null"}
	for _, kind := range kinds {
		resp, b := h.post(chatBody("test/"+kind, 100, false))
		var r map[string]json.RawMessage
		if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", kind, resp.StatusCode, b)
		}
		if fp, ok := r["system_fingerprint"]; !ok || string(fp) != want[kind] {
			t.Fatalf("%s: system_fingerprint %q in %s", kind, fp, b)
		}
		_, b = h.post(chatBody("test/"+kind, 100, true))
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "data: {") {
				continue
			}
			var c map[string]json.RawMessage
			if err := json.Unmarshal([]byte(line[6:]), &c); err != nil {
				t.Fatal(err)
			}
			if fp, ok := c["system_fingerprint"]; ok && string(fp) != want[kind] || string(fp) == "null" {
				t.Fatalf("%s: chunk with system_fingerprint %s: %s", kind, fp, line)
			}
			n++
		}
		if n < 3 {
			t.Fatalf("%s: %d chunks", kind, n)
		}
	}
}

// An answer names the provider that served it in "provider", as
// OpenRouter's do (the AI SDK's provider reports it as
// providerMetadata.openrouter.provider): a whole response at its top, a
// stream in its usage chunk.
func TestAnswersNameTheProviderThatServed(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "a b c", Chunks: 3}, "anthropic": {Text: "a b c", Chunks: 3}, "gemini": {Text: "a b c", Chunks: 3},
	}})
	for _, kind := range kinds {
		resp, b := h.post(chatBody("test/"+kind, 100, false))
		var r struct {
			Provider string `json:"provider"`
		}
		if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != 200 || r.Provider != kind {
			t.Fatalf("%s: provider %q, want %q: %d %s", kind, r.Provider, kind, resp.StatusCode, b)
		}
		_, b = h.post(chatBody("test/"+kind, 100, true))
		r.Provider = ""
		if err := json.Unmarshal(lastUsageChunk(t, b), &r); err != nil || r.Provider != kind {
			t.Fatalf("%s: usage chunk's provider %q, want %q: %s", kind, r.Provider, kind, b)
		}
	}
}

// The app that made a request is recorded from X-OpenRouter-Title (sent by
// OpenRouter's SDKs) or, failing that, X-Title, with HTTP-Referer.
func TestAppAttributionHeaders(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	send := func(headers map[string]string) {
		req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/chat/completions",
			strings.NewReader(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+h.key)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	send(map[string]string{"X-OpenRouter-Title": "新的工具", "HTTP-Referer": "https://tool.example"})
	send(map[string]string{"X-Title": "Old Tool"})
	send(map[string]string{"X-OpenRouter-Title": "Preferred", "X-Title": "Legacy"})
	evs := h.completed()
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	got := map[string]string{}
	for _, e := range evs {
		got[e.AppTitle] = e.AppReferer
	}
	if got["新的工具"] != "https://tool.example" || len(got) != 3 {
		t.Fatalf("titles %v", got)
	}
	if _, ok := got["Old Tool"]; !ok {
		t.Fatalf("X-Title not read: %v", got)
	}
	if _, ok := got["Preferred"]; !ok {
		t.Fatalf("X-OpenRouter-Title does not win over X-Title: %v", got)
	}
}

// LangChain and the AI SDK put "name" on tool messages, and OpenRouter's
// clients send OpenRouter's own fields. OpenAI's API refuses both (the
// strict fake does as it does), so they are dropped before it; a
// compatible host still gets OpenRouter's sampling parameters.
func TestOpenRouterFieldsAreDroppedBeforeOpenAI(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{
			"test/openai": {{fake: "openai", kind: "openai"}},
			"test/compat": {{fake: "compat", kind: "openai"}},
		},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Strict: true}, "compat": {Text: "ok"}},
	})
	body := func(model string, stream bool) string {
		s := ""
		if stream {
			s = `"stream":true,`
		}
		return `{"model":"` + model + `",` + s + `"top_k":40,"min_p":0.1,"repetition_penalty":1.1,"plugins":[{"id":"web"}],"debug":{"echo_upstream_body":true},` +
			`"provider":{"sort":"price"},"models":["test/compat"],"transforms":["middle-out"],"usage":{"include":true},"user":"u-1",` +
			`"messages":[{"role":"user","name":"alice","content":"weather?"},` +
			`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"weather","arguments":"{}"}}]},` +
			`{"role":"tool","tool_call_id":"c1","name":"weather","content":"sunny"}]}`
	}
	for _, stream := range []bool{false, true} {
		resp, b := h.post(body("test/openai", stream))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream=%v: %d %s", stream, resp.StatusCode, b)
		}
		m := wire(t, h.fakes["openai"].Last())
		absent(t, m, "messages.2.name")
		want(t, m, "messages.2.content", "sunny")
		want(t, m, "messages.2.tool_call_id", "c1")
		want(t, m, "messages.0.name", "alice")
		want(t, m, "user", "u-1")
		for _, f := range []string{"top_k", "min_p", "repetition_penalty", "plugins", "debug", "provider", "models", "transforms", "usage"} {
			absent(t, m, f)
		}
	}
	resp, b := h.post(body("test/compat", false))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("compat: %d %s", resp.StatusCode, b)
	}
	m := wire(t, h.fakes["compat"].Last())
	want(t, m, "top_k", "40")
	absent(t, m, "messages.2.name")
	absent(t, m, "plugins")
}

// @openrouter/sdk's chat.send takes OpenRouter's own request options
// (sessionId, trace, a top-level cacheControl, stopServerToolsWhen,
// imageConfig), which OpenAI's own API refuses as unrecognized arguments:
// they are OpenRouter's, never sent to any upstream.
func TestOpenRouterSDKOptionsAreNotSentUpstream(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{
			"test/openai": {{fake: "openai", kind: "openai"}},
			"test/compat": {{fake: "compat", kind: "openai"}},
		},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Strict: true}, "compat": {Text: "ok"}},
	})
	options := []string{"session_id", "trace", "cache_control", "stop_server_tools_when", "image_config"}
	for _, model := range []string{"test/openai", "test/compat"} {
		for _, stream := range []string{"", `"stream":true,`} {
			resp, b := h.post(`{"model":"` + model + `",` + stream + `"session_id":"conv-42","trace":{"trace_id":"t-1","span_name":"s"},` +
				`"cache_control":{"type":"ephemeral"},"stop_server_tools_when":[{"type":"max_tool_calls","value":3}],` +
				`"image_config":{"aspect_ratio":"16:9"},"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d %s", model, stream, resp.StatusCode, b)
			}
			m := wire(t, h.fakes[strings.TrimPrefix(model, "test/")].Last())
			for _, f := range options {
				absent(t, m, f)
			}
		}
	}
}

// include_reasoning, OpenRouter's older switch that the AI SDK's OpenRouter
// provider sends (its includeReasoning setting), is OpenRouter's: never
// sent upstream (OpenAI's own API refuses it), and false leaves the
// reasoning out as reasoning.exclude does.
func TestIncludeReasoningIsOpenRouters(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Reasoning: "thinking it over", Strict: true}},
	})
	for _, include := range []bool{true, false} {
		resp, b := h.post(fmt.Sprintf(`{"model":"test/openai","include_reasoning":%v,"messages":[{"role":"user","content":"hi"}]}`, include))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("include_reasoning %v: %d %s", include, resp.StatusCode, b)
		}
		absent(t, wire(t, h.fakes["openai"].Last()), "include_reasoning")
		if got := strings.Contains(string(b), "thinking it over"); got != include {
			t.Errorf("include_reasoning %v: reasoning in the answer %v: %s", include, got, b)
		}
	}
	resp, b := h.post(`{"model":"test/openai","include_reasoning":"yes","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "include_reasoning") {
		t.Errorf("a string include_reasoning: %d %s", resp.StatusCode, b)
	}
}

// An upstream's 400 is the client's 400, with the upstream's message in
// metadata, streamed or not, and it does not fail over; a refusal that is
// not about the input (the upstream's own key) stays a 502.
func TestUpstreamRefusals(t *testing.T) {
	h := newHarness(t, twoUpstreams("openai", providertest.Script{Status: 400, ErrorMessage: "Invalid 'messages[0].content': string too long."}, Config{}))
	for _, body := range []string{foBody, foStream} {
		resp, b := h.post(body)
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		e := decodeError(t, b)
		if e.Error.Metadata["upstream_message"] != "Invalid 'messages[0].content': string too long." || e.Error.Metadata["upstream_status"] != float64(400) {
			t.Fatalf("error %s", b)
		}
	}
	if n := len(h.fakes["second"].Received()); n != 0 {
		t.Fatalf("failed over %d times", n)
	}
	for _, f := range h.failed() {
		if f.Status != 400 || f.Outcome != domain.OutcomeRejected {
			t.Fatalf("failure event %+v", f)
		}
	}
	// The official client raises a 400 error, which it does not retry.
	client := h.sdk()
	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "test/fo", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, option.WithMaxRetries(2))
	var apiErr *openai.Error
	if !asOpenAIError(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Fatalf("SDK error %v", err)
	}
	if n := len(h.fakes["first"].Received()); n != 3 {
		t.Fatalf("upstream got %d requests, want 3 (no retry of the 400)", n)
	}

	h2 := newHarness(t, twoUpstreams("openai", providertest.Script{Status: 401, ErrorMessage: "Incorrect API key provided"}, Config{}))
	resp, b := h2.post(foBody)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("upstream 401: %d %s", resp.StatusCode, b)
	}
}

// The AI SDK's OpenRouter provider sends Anthropic's eager_input_streaming
// (fine-grained tool streaming) on a tool. It went to OpenAI as sent, and
// OpenAI's API refuses a tool member it does not know (400); Claude never
// got it. It now reaches Anthropic upstreams only.
func TestEagerInputStreamingReachesClaudeOnly(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{
			"test/openai":    {{fake: "openai", kind: "openai"}},
			"test/compat":    {{fake: "compat", kind: "openai"}},
			"test/anthropic": {{fake: "anthropic", kind: "anthropic"}},
			"test/gemini":    {{fake: "gemini", kind: "gemini"}},
		},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Strict: true}},
	})
	tools := `"tools":[{"type":"function","function":{"name":"write_file","description":"Write a file","parameters":{"type":"object","properties":{"path":{"type":"string"}}}},"eager_input_streaming":true}]`
	for _, model := range []string{"test/openai", "test/compat", "test/anthropic", "test/gemini"} {
		for _, stream := range []string{"", `"stream":true,`} {
			resp, b := h.post(`{"model":"` + model + `",` + stream + tools + `,"messages":[{"role":"user","content":"write it"}]}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d %s", model, stream, resp.StatusCode, b)
			}
			m := wire(t, h.fakes[strings.TrimPrefix(model, "test/")].Last())
			switch model {
			case "test/anthropic":
				want(t, m, "tools.0.name", "write_file")
				want(t, m, "tools.0.eager_input_streaming", "true")
			case "test/gemini":
				want(t, m, "tools.0.functionDeclarations.0.name", "write_file")
				absent(t, m, "tools.0.functionDeclarations.0.eager_input_streaming")
			default:
				want(t, m, "tools.0.function.name", "write_file")
				want(t, m, "tools.0.function.parameters.properties.path.type", "string")
				absent(t, m, "tools.0.eager_input_streaming")
			}
		}
	}
	// false is Anthropic's default, sent as the client asked.
	resp, b := h.post(`{"model":"test/anthropic",` + strings.Replace(tools, "true", "false", 1) + `,"messages":[{"role":"user","content":"write it"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("false: %d %s", resp.StatusCode, b)
	}
	want(t, wire(t, h.fakes["anthropic"].Last()), "tools.0.eager_input_streaming", "false")
}

// OpenRouter documents a provider's error as metadata {provider_name, raw}:
// the AI SDK's OpenRouter provider words its error as "[provider_name]" and
// the message in raw, and apps such as Roo Code show raw. An upstream's
// refusal carried neither (only RouteFree's provider and upstream_message),
// so the client could not tell which provider refused, nor read its words
// where OpenRouter puts them.
func TestProviderErrorsNameProviderAndRaw(t *testing.T) {
	for _, tc := range []struct {
		name    string
		script  providertest.Script
		status  int
		message string // what the message says
	}{
		{"input refused", providertest.Script{Status: 400, ErrorMessage: "prompt is too long: 215000 tokens > 200000 maximum"}, http.StatusBadRequest,
			"first rejected the request: This model's maximum context length is 200000 tokens"},
		{"gateway refused", providertest.Script{Status: 401, ErrorMessage: "invalid x-api-key"}, http.StatusBadGateway,
			"the provider first refused the gateway's own credentials"},
		{"quoting a key", providertest.Script{Status: 400, ErrorMessage: "unknown field top_k for key sk-ant-api03-Ab***xyz"}, http.StatusBadRequest,
			"first rejected the request: unknown field top_k for key [redacted key]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, twoUpstreams("anthropic", tc.script, Config{}))
			raw := strings.ReplaceAll(tc.script.ErrorMessage, "sk-ant-api03-Ab***xyz", "[redacted key]")
			for _, body := range []string{foBody, foStream} {
				resp, b := h.post(body)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d: %s", resp.StatusCode, b)
				}
				e := decodeError(t, b).Error
				md := e.Metadata
				if md["provider_name"] != "first" || md["raw"] != raw || md["upstream_status"] != float64(tc.script.Status) {
					t.Errorf("%s: metadata %v, want provider_name first, raw %q and upstream_status %d", body, md, raw, tc.script.Status)
				}
				if !strings.HasPrefix(e.Message, tc.message) {
					t.Errorf("%s: message %q, want it to begin %q", body, e.Message, tc.message)
				}
			}
		})
	}
}

// OpenRouter's chat completions take "prompt" in place of "messages"
// ("either messages or prompt is required", its request schema says): the
// prompt is the one user message, and the answer's choices carry their
// text as "text" (OpenRouter's NonChatChoice), whole or streamed, beside
// the chat message. RouteFree refused such a request (400, messages
// required). Both at once is refused, as it would be a guess.
func TestChatTakesPromptForMessages(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, kind := range kinds {
		for _, stream := range []bool{false, true} {
			resp, b := h.post(fmt.Sprintf(`{"model":"test/%s","prompt":"Say hello","stream":%v}`, kind, stream))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s stream %v: %d %s", kind, stream, resp.StatusCode, b)
			}
			if text := replyText(t, b, stream); text != "Hello from the fake." {
				t.Errorf("%s stream %v: answer %q", kind, stream, text)
			}
			if text := choiceTexts(t, b, stream); text != "Hello from the fake." {
				t.Errorf("%s stream %v: choices' text %q in %s", kind, stream, text, b)
			}
			sent := string(h.fakes[kind].Last().Body)
			if !strings.Contains(sent, "Say hello") || strings.Contains(sent, `"prompt"`) {
				t.Errorf("%s: upstream got %s", kind, sent)
			}
		}
	}
	var up struct {
		Messages []struct{ Role, Content string }
	}
	if err := json.Unmarshal(h.fakes["openai"].Last().Body, &up); err != nil || len(up.Messages) != 1 ||
		up.Messages[0].Role != "user" || up.Messages[0].Content != "Say hello" {
		t.Errorf("openai upstream got %s", h.fakes["openai"].Last().Body)
	}
	for _, body := range []string{
		`{"model":"test/openai","prompt":"a","messages":[{"role":"user","content":"b"}]}`,
		`{"model":"test/openai","prompt":["a"]}`,
		`{"model":"test/openai","prompt":""}`,
	} {
		resp, b := h.post(body)
		if resp.StatusCode != http.StatusBadRequest || decodeError(t, b).Error.Metadata["param"] != "prompt" {
			t.Errorf("%s: %d %s, want a 400 naming prompt", body, resp.StatusCode, b)
		}
	}
}

// choiceTexts joins the "text" of the first choice of an answer, or of
// every chunk of a stream.
func choiceTexts(t *testing.T, b []byte, stream bool) string {
	t.Helper()
	type answer struct {
		Choices []struct {
			Text *string `json:"text"`
		} `json:"choices"`
	}
	bodies := [][]byte{b}
	if stream {
		bodies = nil
		for _, line := range strings.Split(string(b), "\n") {
			if data, ok := strings.CutPrefix(line, "data: "); ok && data != "[DONE]" {
				bodies = append(bodies, []byte(data))
			}
		}
	}
	var out strings.Builder
	for _, body := range bodies {
		var a answer
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		for _, c := range a.Choices {
			if c.Text == nil {
				t.Fatalf("a choice without text: %s", body)
			}
			out.WriteString(*c.Text)
		}
	}
	return out.String()
}
