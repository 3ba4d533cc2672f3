package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// Clients that build one request body and switch stream on and off send
// stream_options either way; OpenRouter takes it on a request that does
// not stream (usage comes with every answer), where OpenAI, and vLLM
// behind many compatible hosts, refuse it: it goes upstream only with a
// stream.
func TestStreamOptionsOfARequestThatDoesNotStreamStayHere(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Strict: true}},
	})
	for _, stream := range []string{``, `"stream":false,`} {
		resp, b := h.post(`{"model":"test/openai",` + stream + `"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: %d %s", stream, resp.StatusCode, b)
		}
		absent(t, wire(t, h.fakes["openai"].Last()), "stream_options")
	}
	resp, b := h.post(`{"model":"test/openai","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	want(t, wire(t, h.fakes["openai"].Last()), "stream_options.include_usage", "true")
}

// The AI SDK's OpenRouter provider sends parallel_tool_calls from the
// model's settings whether or not the call has tools, and other clients
// send an empty tools list or a tool_choice with none: OpenRouter serves
// them, where OpenAI refuses each. Without a tool none of them means
// anything, so they stay here; with tools they go as sent.
func TestToolOptionsWithoutToolsStayHere(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Strict: true}},
	})
	for _, opts := range []string{
		`"parallel_tool_calls":false`,
		`"tools":[]`,
		`"tool_choice":"none"`,
		`"tools":[],"tool_choice":"auto","parallel_tool_calls":true`,
		`"tools":null,"tool_choice":"auto"`,
	} {
		for _, stream := range []string{``, `"stream":true,`} {
			resp, b := h.post(`{"model":"test/openai",` + stream + opts + `,"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s%s: %d %s", stream, opts, resp.StatusCode, b)
			}
			m := wire(t, h.fakes["openai"].Last())
			for _, f := range []string{"tools", "tool_choice", "parallel_tool_calls"} {
				absent(t, m, f)
			}
		}
	}
	resp, b := h.post(`{"model":"test/openai","tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object"}}}],"tool_choice":"auto","parallel_tool_calls":false,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with tools: %d %s", resp.StatusCode, b)
	}
	m := wire(t, h.fakes["openai"].Last())
	want(t, m, "tools.0.function.name", "weather")
	want(t, m, "tool_choice", "auto")
	want(t, m, "parallel_tool_calls", "false")
}

// OpenRouter ignores reasoning for a model that does not reason, on every
// provider. Compatible hosts refuse reasoning_effort for such a model
// (Groq's Llama models, xAI's Grok 3 and 4: a 400), so it is left out for
// an upstream whose parameters the catalog lists without it, and goes to
// one that lists it.
func TestCompatibleHostWithoutReasoningTakesReasoningParameters(t *testing.T) {
	plain := []string{"max_tokens", "temperature", "top_p", "stop", "seed", "tools", "tool_choice", "response_format", "user", "stream"}
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models: map[string][]upstreamSpec{
			"meta-llama/llama-3.3-70b-instruct": {{fake: "groq", kind: "openai", params: plain}},
			"x-ai/grok-3-mini":                  {{fake: "xai", kind: "openai", params: append([]string{"reasoning_effort", "reasoning"}, plain...)}},
		},
		scripts: map[string]providertest.Script{"groq": {Text: "Answered.", NoReasoning: true}, "xai": {Text: "Thought."}},
	})
	for _, reasoning := range []string{`"reasoning":{"effort":"high"}`, `"reasoning_effort":"low"`, `"reasoning":{"max_tokens":500}`, `"reasoning":{"enabled":true}`} {
		resp, b := h.post(`{"model":"meta-llama/llama-3.3-70b-instruct",` + reasoning + `,"temperature":0.2,"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", reasoning, resp.StatusCode, b)
		}
		w := wire(t, h.fakes["groq"].Last())
		absent(t, w, "reasoning_effort")
		absent(t, w, "reasoning")
		want(t, w, "temperature", "0.2")
	}
	resp, b := h.post(`{"model":"x-ai/grok-3-mini","reasoning":{"effort":"high"},"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("grok-3-mini: status %d: %s", resp.StatusCode, b)
	}
	want(t, wire(t, h.fakes["xai"].Last()), "reasoning_effort", "high")
}

// OpenRouter takes video as a video_url content part (and the older
// input_video, both of which @openrouter/sdk's chat.send sends) for the
// models that watch video, Gemini's: a YouTube link or a video's URL goes
// to Gemini as its fileData, a data: URL as inlineData. Claude watches no
// video: a 400 saying so, before any call. OpenAI-shaped upstreams get
// the part as sent.
func TestVideoPartsReachGemini(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise})
	video := func(typ, url string) string {
		return `{"role":"user","content":[{"type":"text","text":"What happens?"},{"type":"` + typ + `","video_url":{"url":"` + url + `"}}]}`
	}
	for _, c := range []struct{ part, path, value, mime string }{
		{video("video_url", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"), "fileData.fileUri", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", ""},
		{video("video_url", "https://youtu.be/dQw4w9WgXcQ"), "fileData.fileUri", "https://youtu.be/dQw4w9WgXcQ", ""},
		{video("input_video", "https://example.com/clip.webm?sig=1"), "fileData.fileUri", "https://example.com/clip.webm?sig=1", "video/webm"},
		{video("video_url", "data:video/mp4;base64,AAAAIGZ0eXA="), "inlineData.data", "AAAAIGZ0eXA=", "video/mp4"},
	} {
		resp, b := h.post(`{"model":"test/gemini","messages":[` + c.part + `]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.part, resp.StatusCode, b)
		}
		w := wire(t, h.fakes["gemini"].Last())
		want(t, w, "contents.0.parts.0.text", "What happens?")
		want(t, w, "contents.0.parts.1."+c.path, c.value)
		kind := "fileData"
		if c.path == "inlineData.data" {
			kind = "inlineData"
		}
		if c.mime == "" {
			absent(t, w, "contents.0.parts.1."+kind+".mimeType")
		} else {
			want(t, w, "contents.0.parts.1."+kind+".mimeType", c.mime)
		}
	}
	resp, b := h.post(`{"model":"test/openai","messages":[` + video("video_url", "https://example.com/clip.mp4") + `]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("openai: %d %s", resp.StatusCode, b)
	}
	want(t, wire(t, h.fakes["openai"].Last()), "messages.0.content.1.video_url.url", "https://example.com/clip.mp4")

	calls := len(h.fakes["anthropic"].Received())
	resp, b = h.post(`{"model":"test/anthropic","messages":[` + video("video_url", "https://example.com/clip.mp4") + `]}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "video") {
		t.Fatalf("anthropic: %d %s", resp.StatusCode, b)
	}
	if n := len(h.fakes["anthropic"].Received()); n != calls {
		t.Fatalf("Anthropic was called with a video (%d calls)", n-calls)
	}
	resp, b = h.post(`{"model":"test/gemini","messages":[` + video("video_url", "ftp://example.com/clip.mp4") + `]}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "messages[0].content[1].video_url.url") {
		t.Fatalf("ftp URL: %d %s", resp.StatusCode, b)
	}
}

// Some OpenAI-compatible hosts answer every message with "tool_calls": [],
// and clients that keep the answer in the conversation (LangChain keeps
// the message's tool_calls as it came) send it back. OpenRouter takes it;
// OpenAI refuses an empty tool_calls, so it is left out before an
// OpenAI-shaped upstream. Calls that are there go as sent.
func TestEmptyToolCallsOfAnAnswerSentBackStayHere(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Strict: true}},
	})
	for _, stream := range []string{``, `"stream":true,`} {
		resp, b := h.post(`{"model":"test/openai",` + stream + `"messages":[{"role":"user","content":"hi"},` +
			`{"role":"assistant","content":"Hello.","tool_calls":[ ]},{"role":"user","content":"again"}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", stream, resp.StatusCode, b)
		}
		m := wire(t, h.fakes["openai"].Last())
		absent(t, m, "messages.1.tool_calls")
		want(t, m, "messages.1.content", "Hello.")
	}
	resp, b := h.post(`{"model":"test/openai","tools":[{"type":"function","function":{"name":"weather"}}],"messages":[{"role":"user","content":"hi"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"weather","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"c1","content":"sunny"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with calls: %d %s", resp.StatusCode, b)
	}
	want(t, wire(t, h.fakes["openai"].Last()), "messages.1.tool_calls.0.id", "c1")
}

// metadata is one of OpenRouter's request options (@openrouter/sdk's
// chat.send takes it; OpenRouter has no store), and OpenAI's API takes it
// only with store: true, refusing it otherwise. It goes to OpenAI with a
// store: true the client sent, and is left out without one.
func TestMetadataReachesOpenAIOnlyWithStore(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Strict: true}},
	})
	for _, c := range []struct {
		store string
		sent  bool
	}{{``, false}, {`"store":false,`, false}, {`"store":true,`, true}} {
		for _, stream := range []string{``, `"stream":true,`} {
			resp, b := h.post(`{"model":"test/openai",` + stream + c.store + `"metadata":{"session":"s-1"},"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s%s: %d %s", stream, c.store, resp.StatusCode, b)
			}
			m := wire(t, h.fakes["openai"].Last())
			if c.sent {
				want(t, m, "metadata.session", "s-1")
			} else {
				absent(t, m, "metadata")
			}
		}
	}
}

// OpenAI's o-series models (o1, o3, o4-mini) refuse parallel_tool_calls,
// which agent frameworks send with every request that has tools
// (LangChain's bind_tools, the AI SDK's OpenRouter provider's
// parallelToolCalls); OpenRouter ignores a parameter a model does not
// take. It is left out for them and goes to gpt-4.1 as sent.
func TestParallelToolCallsAreLeftOutForOSeriesModels(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models: map[string][]upstreamSpec{
			"openai/o4-mini": {{fake: "openai", kind: "openai", params: o3Params, model: "o4-mini"}},
			"openai/gpt-4.1": {{fake: "gpt", kind: "openai", model: "gpt-4.1"}},
		},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Reasoner: true, Strict: true}, "gpt": {Text: "ok", Strict: true}},
	})
	body := func(model, stream string) string {
		return `{"model":"` + model + `",` + stream + `"tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object"}}}],` +
			`"parallel_tool_calls":false,"messages":[{"role":"user","content":"hi"}]}`
	}
	for _, stream := range []string{``, `"stream":true,`} {
		resp, b := h.post(body("openai/o4-mini", stream))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("o4-mini %s: %d %s", stream, resp.StatusCode, b)
		}
		m := wire(t, h.fakes["openai"].Last())
		absent(t, m, "parallel_tool_calls")
		want(t, m, "tools.0.function.name", "weather")
	}
	resp, b := h.post(body("openai/gpt-4.1", ``))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("gpt-4.1: %d %s", resp.StatusCode, b)
	}
	want(t, wire(t, h.fakes["gpt"].Last()), "parallel_tool_calls", "false")
}

// Mistral's API refuses (422, extra_forbidden) every field its schema
// lacks: the stream_options the gateway adds to every stream, OpenAI's
// max_completion_tokens, seed (its random_seed), user, metadata and
// OpenRouter's top_k. OpenRouter serves such requests; so does RouteFree
// now: Mistral gets its own names and none of the rest, and a stream's
// usage comes in the chunk that finishes it, unasked.
func TestMistralGetsOnlyWhatItsAPITakes(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models:  map[string][]upstreamSpec{"mistralai/mistral-large": {{fake: "mistral", kind: "openai", model: "mistral-large-latest"}}},
		scripts: map[string]providertest.Script{"mistral": {Text: "Bonjour.", Mistral: true, Usage: providertest.Usage{Prompt: 7, Completion: 3}}},
	})
	for _, stream := range []bool{false, true} {
		s := ``
		if stream {
			s = `"stream":true,"stream_options":{"include_usage":true},`
		}
		resp, b := h.post(`{"model":"mistralai/mistral-large",` + s + `"max_completion_tokens":50,"seed":7,"user":"u-1","metadata":{"a":"b"},` +
			`"top_k":40,"temperature":0.3,"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream=%v: %d %s", stream, resp.StatusCode, b)
		}
		if !strings.Contains(string(b), "Bonjour.") || !strings.Contains(string(b), `"prompt_tokens":7`) || !strings.Contains(string(b), `"completion_tokens":3`) {
			t.Fatalf("stream=%v: the answer or its usage is missing: %s", stream, b)
		}
		m := wire(t, h.fakes["mistral"].Last())
		want(t, m, "max_tokens", "50")
		want(t, m, "random_seed", "7")
		want(t, m, "temperature", "0.3")
		for _, f := range []string{"max_completion_tokens", "seed", "user", "metadata", "top_k", "stream_options"} {
			absent(t, m, f)
		}
	}
	resp, b := h.post(`{"model":"mistralai/mistral-large","max_tokens":20,"max_completion_tokens":30,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("both limits: %d %s", resp.StatusCode, b)
	}
	want(t, wire(t, h.fakes["mistral"].Last()), "max_tokens", "30")
	if c := h.completed(); len(c) == 0 || c[len(c)-1].Usage.Estimated {
		t.Fatalf("the last request's usage was not Mistral's: %+v", c)
	}
}

// Mistral writes its errors flat, {"object":"error","message":…}, the
// message a string or its schema's list of faults; OpenRouter passes the
// provider's words on, where the gateway read none of them ("Unprocessable
// Entity"). A fault names where it is and what, never the value refused,
// which may be the client's prompt.
func TestMistralsErrorsReachTheClientInItsWords(t *testing.T) {
	for _, c := range []struct {
		status     int
		body, want string
	}{
		{400, `{"object":"error","message":"Invalid model: mistral-huge","type":"invalid_model","param":null,"code":"1500"}`, "Invalid model: mistral-huge"},
		{422, `{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","messages",0,"user","name"],"msg":"Extra inputs are not permitted","input":"secret prompt"}]},"type":"invalid_request_error","param":null,"code":null}`,
			"body.messages.0.user.name: Extra inputs are not permitted"},
	} {
		h := newHarness(t, harnessOpts{
			models:  map[string][]upstreamSpec{"mistralai/mistral-large": {{fake: "mistral", kind: "openai"}}},
			scripts: map[string]providertest.Script{"mistral": {Status: c.status, ErrorBody: c.body}},
		})
		resp, b := h.post(`{"model":"mistralai/mistral-large","messages":[{"role":"user","name":"secret prompt","content":"hi"}]}`)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Fatalf("%d: %d %s, want 400 saying %q", c.status, resp.StatusCode, b, c.want)
		}
		if strings.Contains(string(b), "secret prompt") {
			t.Fatalf("the refused value came back: %s", b)
		}
	}
}

// Groq's API documents that logprobs, logit_bias, top_logprobs and a
// message's name are refused with a 400; OpenRouter ignores what a
// provider does not take. They are left out for Groq, and go to other
// compatible hosts as sent.
func TestGroqGetsNoFieldItRefuses(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models: map[string][]upstreamSpec{
			"meta-llama/llama-3.3-70b-instruct": {{fake: "groq", kind: "openai"}},
			"meta-llama/llama-4-maverick":       {{fake: "together", kind: "openai"}},
		},
		scripts: map[string]providertest.Script{"groq": {Text: "ok", Groq: true}, "together": {Text: "ok"}},
	})
	body := func(model, stream string) string {
		return `{"model":"` + model + `",` + stream + `"logprobs":true,"top_logprobs":2,"logit_bias":{"50256":-100},"temperature":0.5,` +
			`"messages":[{"role":"system","name":"rules","content":"Be brief."},{"role":"user","name":"alice","content":"hi"}]}`
	}
	for _, stream := range []string{``, `"stream":true,`} {
		resp, b := h.post(body("meta-llama/llama-3.3-70b-instruct", stream))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("groq %s: %d %s", stream, resp.StatusCode, b)
		}
		m := wire(t, h.fakes["groq"].Last())
		for _, f := range []string{"logprobs", "top_logprobs", "logit_bias", "messages.0.name", "messages.1.name"} {
			absent(t, m, f)
		}
		want(t, m, "messages.1.content", "hi")
		want(t, m, "temperature", "0.5")
	}
	resp, b := h.post(body("meta-llama/llama-4-maverick", ``))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("together: %d %s", resp.StatusCode, b)
	}
	m := wire(t, h.fakes["together"].Last())
	want(t, m, "top_logprobs", "2")
	want(t, m, "messages.1.name", "alice")
}

// xAI's reasoning models (grok-3-mini, grok-4 and later) refuse
// presence_penalty, frequency_penalty and stop, which chat apps send with
// every request; OpenRouter ignores what a model does not take. They are
// left out for those models and go to grok-3 as sent.
func TestXAIReasoningModelsGetNoPenaltiesNorStop(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models: map[string][]upstreamSpec{
			"x-ai/grok-4":      {{fake: "xai", kind: "openai", model: "grok-4"}},
			"x-ai/grok-3-mini": {{fake: "xai", kind: "openai", model: "grok-3-mini"}},
			"x-ai/grok-3":      {{fake: "xai3", kind: "openai", model: "grok-3"}},
		},
		kinds:   map[string]string{"xai3": "openai"},
		scripts: map[string]providertest.Script{"xai": {Text: "ok", XAIReasoner: true}, "xai3": {Text: "ok"}},
	})
	body := func(model, stream string) string {
		return `{"model":"` + model + `",` + stream + `"presence_penalty":0,"frequency_penalty":0.1,"stop":["END"],"temperature":0.7,"messages":[{"role":"user","content":"hi"}]}`
	}
	for _, model := range []string{"x-ai/grok-4", "x-ai/grok-3-mini"} {
		for _, stream := range []string{``, `"stream":true,`} {
			resp, b := h.post(body(model, stream))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d %s", model, stream, resp.StatusCode, b)
			}
			m := wire(t, h.fakes["xai"].Last())
			for _, f := range []string{"presence_penalty", "frequency_penalty", "stop"} {
				absent(t, m, f)
			}
			want(t, m, "temperature", "0.7")
		}
	}
	resp, b := h.post(body("x-ai/grok-3", ``))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("grok-3: %d %s", resp.StatusCode, b)
	}
	m := wire(t, h.fakes["xai3"].Last())
	want(t, m, "frequency_penalty", "0.1")
	want(t, m, "stop.0", "END")
}

// Mistral's schema refuses a message member it lacks as it refuses a
// field: a user's name, and what answers of other models carry when a
// chat app sends the conversation on to Mistral (OpenAI's refusal and
// annotations, OpenRouter's reasoning). Each message goes with the
// members of its role alone, a developer message (a role Mistral lacks)
// as a system message.
func TestMistralGetsOnlyTheMessageMembersItTakes(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models:  map[string][]upstreamSpec{"mistralai/mistral-large": {{fake: "mistral", kind: "openai"}}},
		scripts: map[string]providertest.Script{"mistral": {Text: "Bonjour.", Mistral: true}},
	})
	resp, b := h.post(`{"model":"mistralai/mistral-large","tools":[{"type":"function","function":{"name":"weather"}}],"messages":[` +
		`{"role":"developer","name":"rules","content":"Be brief."},{"role":"user","name":"alice","content":"hi"},` +
		`{"role":"assistant","content":"Hello.","refusal":null,"annotations":[],"reasoning":"greet back"},{"role":"user","content":"weather?"},` +
		`{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"weather","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"c1","name":"weather","content":"sunny"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	m := wire(t, h.fakes["mistral"].Last())
	for _, f := range []string{"messages.0.name", "messages.1.name", "messages.2.refusal", "messages.2.annotations", "messages.2.reasoning", "messages.4.refusal"} {
		absent(t, m, f)
	}
	want(t, m, "messages.0.role", "system")
	want(t, m, "messages.1.content", "hi")
	want(t, m, "messages.4.tool_calls.0.id", "c1")
	want(t, m, "messages.5.name", "weather")
	want(t, m, "messages.5.tool_call_id", "c1")
}

// DeepSeek documents that deepseek-reasoner refuses logprobs and
// top_logprobs (where it ignores the sampling parameters); OpenRouter
// ignores what a model does not take. They are left out for it, and go to
// deepseek-chat as sent.
func TestDeepSeekReasonerGetsNoLogprobs(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models: map[string][]upstreamSpec{
			"deepseek/deepseek-reasoner": {{fake: "deepseek", kind: "openai", model: "deepseek-reasoner"}},
			"deepseek/deepseek-chat":     {{fake: "deepseek", kind: "openai", model: "deepseek-chat"}},
		},
		scripts: map[string]providertest.Script{"deepseek": {Text: "ok"}},
	})
	body := func(model, stream string) string {
		return `{"model":"` + model + `",` + stream + `"logprobs":true,"top_logprobs":3,"messages":[{"role":"user","content":"hi"}]}`
	}
	resp, b := h.post(body("deepseek/deepseek-chat", ``))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("deepseek-chat: %d %s", resp.StatusCode, b)
	}
	want(t, wire(t, h.fakes["deepseek"].Last()), "top_logprobs", "3")
	h.fakes["deepseek"].SetScript(providertest.Script{Text: "ok", DeepSeekReasoner: true})
	for _, stream := range []string{``, `"stream":true,`} {
		resp, b := h.post(body("deepseek/deepseek-reasoner", stream))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("deepseek-reasoner %s: %d %s", stream, resp.StatusCode, b)
		}
		m := wire(t, h.fakes["deepseek"].Last())
		absent(t, m, "logprobs")
		absent(t, m, "top_logprobs")
	}
}
