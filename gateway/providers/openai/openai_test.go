package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers"
	"github.com/routefree/routefree/gateway/providers/openai"
	pt "github.com/routefree/routefree/gateway/providers/providertest"
)

func upstream(srv *pt.Server) providers.Upstream {
	return providers.Upstream{Provider: "openai", Kind: providers.KindOpenAI, BaseURL: srv.BaseURL, Model: "gpt-4.1-2025-04-14", APIKey: "sk-upstream"}
}

func TestNonStreamText(t *testing.T) {
	srv := pt.NewOpenAI(t, pt.Script{Text: "你好，世界", Usage: pt.Usage{Prompt: 120, Completion: 40, Cached: 100, Reasoning: 25}})
	req := pt.Parse(t, `{"model":"openai/gpt-4.1","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],`+
		`"reasoning_effort":"low","provider":{"order":["openai"]},"models":["x"],"temperature":0.2}`)
	res, err := openai.Adapter{}.Send(context.Background(), http.DefaultClient, upstream(srv), req)
	if err != nil {
		t.Fatal(err)
	}
	// An answer in OpenAI's shape is relayed as it came, with the
	// gateway's id, model and usage written around its choices.
	rel := res.Relay
	if rel == nil || res.Response != nil || res.Stream != nil {
		t.Fatalf("result = %+v", res)
	}
	var r chat.Response
	if err := json.Unmarshal(rel.AppendJSON(nil, "gen-1", "openai/gpt-4.1", "openai", 1, nil), &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != "gen-1" || r.Model != "openai/gpt-4.1" || r.Choices[0].Message.Content.String() != "你好，世界" ||
		r.Choices[0].FinishReason != "stop" || rel.Finish != "stop" {
		t.Errorf("response = %+v", r)
	}
	u := rel.Usage
	if u.PromptTokens != 120 || u.CompletionTokens != 40 || u.TotalTokens != 160 || u.CachedTokens() != 100 || u.ReasoningTokens() != 25 {
		t.Errorf("usage = %+v", u)
	}
	got := srv.Last()
	if got.Header.Get("Authorization") != "Bearer sk-upstream" || got.Path != "/v1/chat/completions" {
		t.Errorf("auth %q path %q", got.Header.Get("Authorization"), got.Path)
	}
	var sent map[string]json.RawMessage
	if err := json.Unmarshal(got.Body, &sent); err != nil {
		t.Fatal(err)
	}
	if string(sent["model"]) != `"gpt-4.1-2025-04-14"` || string(sent["reasoning_effort"]) != `"low"` || string(sent["temperature"]) != "0.2" {
		t.Errorf("sent body = %s", got.Body)
	}
	if _, ok := sent["provider"]; ok {
		t.Errorf("RouteFree options sent upstream: %s", got.Body)
	}
}

func TestStreamText(t *testing.T) {
	text := strings.Repeat("台北天氣晴。", 8)
	srv := pt.NewOpenAI(t, pt.Script{Text: text, Chunks: 16, Usage: pt.Usage{Prompt: 30, Completion: 16, Cached: 10, Reasoning: 4}})
	req := pt.Parse(t, `{"model":"openai/gpt-4.1","messages":[{"role":"user","content":"weather?"}],"stream":true}`)
	res, err := openai.Adapter{}.Send(context.Background(), nil, upstream(srv), req)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Stream
	defer s.Close()
	s.SetIdentity("gen-123", 1700000000)
	chunks, err := pt.Drain(t, s)
	if err != io.EOF {
		t.Fatalf("end error = %v", err)
	}
	var content strings.Builder
	for _, c := range chunks {
		if c.ID != "gen-123" || c.Model != "openai/gpt-4.1" || c.Object != "chat.completion.chunk" {
			t.Fatalf("chunk header = %+v", c)
		}
		if len(c.Choices) == 1 && c.Choices[0].Delta.Content != nil {
			content.WriteString(*c.Choices[0].Delta.Content)
		}
	}
	if content.String() != text {
		t.Errorf("content = %q", content.String())
	}
	if n := len(chunks); n != 18 { // role + 16 content + finish; the usage chunk is withheld
		t.Errorf("%d chunks relayed", n)
	}
	u, ok := s.Usage()
	if !ok || u.PromptTokens != 30 || u.CompletionTokens != 16 || u.CachedTokens() != 10 || u.ReasoningTokens() != 4 {
		t.Errorf("usage = %+v %v", u, ok)
	}
	if s.FinishReason() != "stop" {
		t.Errorf("finish = %q", s.FinishReason())
	}
	var sent struct {
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	_ = json.Unmarshal(srv.Last().Body, &sent)
	if !sent.StreamOptions.IncludeUsage {
		t.Errorf("include_usage not forced: %s", srv.Last().Body)
	}
}

func TestStreamToolCalls(t *testing.T) {
	calls := []pt.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Taipei","unit":"c"}`}, {ID: "call_2", Name: "get_time", Arguments: `{"tz":"Asia/Taipei"}`}}
	srv := pt.NewOpenAI(t, pt.Script{ToolCalls: calls})
	req := pt.Parse(t, `{"model":"openai/gpt-4.1","messages":[{"role":"user","content":"x"}],"stream":true,`+
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}},{"type":"function","function":{"name":"get_time"}}]}`)
	res, err := openai.Adapter{}.Send(context.Background(), nil, upstream(srv), req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Stream.Close()
	chunks, err := pt.Drain(t, res.Stream)
	if err != io.EOF {
		t.Fatal(err)
	}
	args, names := map[int]string{}, map[int]string{}
	for _, c := range chunks {
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				args[*tc.Index] += tc.Function.Arguments
				names[*tc.Index] += tc.Function.Name
			}
		}
	}
	for i, want := range calls {
		if args[i] != want.Arguments || names[i] != want.Name {
			t.Errorf("call %d = %s(%s)", i, names[i], args[i])
		}
	}
	if res.Stream.FinishReason() != "tool_calls" {
		t.Errorf("finish = %q", res.Stream.FinishReason())
	}
}

func TestStreamCut(t *testing.T) {
	srv := pt.NewOpenAI(t, pt.Script{Text: "one two three four five six", Chunks: 6, CutAfter: 3})
	req := pt.Parse(t, `{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`)
	res, err := openai.Adapter{}.Send(context.Background(), nil, upstream(srv), req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Stream.Close()
	chunks, err := pt.Drain(t, res.Stream)
	if err == io.EOF || !errors.Is(err, providers.ErrStreamCut) {
		t.Fatalf("cut stream ended with %v", err)
	}
	if len(chunks) != 4 { // role + 3 content chunks delivered before the cut
		t.Errorf("%d chunks before the cut", len(chunks))
	}
	if _, ok := res.Stream.Usage(); ok {
		t.Error("a cut stream claims final usage")
	}
	if _, err := res.Stream.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after a cut = %v", err)
	}
}

func TestStreamErrorEvent(t *testing.T) {
	srv := pt.NewOpenAI(t, pt.Script{Text: "a b c", Chunks: 3, CutAfter: 1, ErrorEvent: true})
	req := pt.Parse(t, `{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`)
	res, err := openai.Adapter{}.Send(context.Background(), nil, upstream(srv), req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Stream.Close()
	_, err = pt.Drain(t, res.Stream)
	var ue *providers.UpstreamError
	if !errors.As(err, &ue) || !strings.Contains(ue.Message, "overloaded") {
		t.Fatalf("error event gave %v", err)
	}
}

func TestErrors(t *testing.T) {
	req := pt.Parse(t, `{"model":"m","messages":[{"role":"user","content":"x"}]}`)
	for _, c := range []struct {
		status    int
		retryable bool
	}{{503, true}, {429, true}, {500, true}, {408, true}, {400, false}, {404, false}} {
		srv := pt.NewOpenAI(t, pt.Script{Status: c.status, ErrorMessage: "boom " + http.StatusText(c.status)})
		_, err := openai.Adapter{}.Send(context.Background(), nil, upstream(srv), req)
		var ue *providers.UpstreamError
		if !errors.As(err, &ue) {
			t.Fatalf("%d: error %v", c.status, err)
		}
		if ue.Status != c.status || ue.Retryable != c.retryable || providers.Retryable(err) != c.retryable ||
			ue.Provider != "openai" || !strings.Contains(ue.Message, "boom") {
			t.Errorf("%d: %+v", c.status, ue)
		}
	}
}

func TestMissingKeyIs401(t *testing.T) {
	srv := pt.NewOpenAI(t, pt.Script{Text: "x"})
	up := upstream(srv)
	up.APIKey = ""
	_, err := openai.Adapter{}.Send(context.Background(), nil, up, pt.Parse(t, `{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	var ue *providers.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 401 || providers.Retryable(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestTransportErrorsAreRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	req := pt.Parse(t, `{"model":"m","messages":[{"role":"user","content":"x"}]}`)
	up := providers.Upstream{Provider: "openai", BaseURL: "http://" + addr + "/v1", Model: "m", APIKey: "k"}
	_, err = openai.Adapter{}.Send(context.Background(), nil, up, req)
	if err == nil || !providers.Retryable(err) {
		t.Errorf("connection refused: %v retryable=%v", err, providers.Retryable(err))
	}

	slow := pt.NewOpenAI(t, pt.Script{Text: "late", Delay: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = openai.Adapter{}.Send(ctx, nil, upstream(slow), req)
	if err == nil || !providers.Retryable(err) {
		t.Errorf("timeout: %v retryable=%v", err, providers.Retryable(err))
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = openai.Adapter{}.Send(ctx, nil, upstream(slow), req)
	if err == nil || providers.Retryable(err) {
		t.Errorf("cancelled client: %v retryable=%v", err, providers.Retryable(err))
	}
}

func TestDecodeResponseCompatibleUsage(t *testing.T) {
	// DeepSeek reports cache hits in its own field.
	res, err := openai.DecodeResponse([]byte(`{"id":"x","object":"chat.completion","created":1,"model":"deepseek-chat",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":50,"completion_tokens":10,"total_tokens":60,"prompt_cache_hit_tokens":32,"prompt_cache_miss_tokens":18,"cost":0.5}}`))
	if err != nil {
		t.Fatal(err)
	}
	u := res.Response.Usage
	if u.CachedTokens() != 32 || u.TotalTokens != 60 || u.Cost != nil {
		t.Errorf("usage = %+v", u)
	}
}

// A compatible host that sends no system_fingerprint: each relayed chunk
// gets the key, null, as OpenRouter's chunks have it; a chunk that has one
// keeps it.
func TestStreamChunksAlwaysCarrySystemFingerprint(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}`+"\n\n")
		io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n")
		io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`+"\n\n")
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()
	req := pt.Parse(t, `{"model":"x/m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	up := providers.Upstream{Provider: "compat", BaseURL: srv.URL + "/v1", Model: "m", APIKey: "k"}
	res, err := openai.Adapter{}.Send(context.Background(), nil, up, req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Stream.Close()
	var got []string
	for {
		b, err := res.Stream.Next()
		if err != nil {
			break
		}
		var c map[string]json.RawMessage
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("chunk %s: %v", b, err)
		}
		got = append(got, string(c["system_fingerprint"]))
	}
	// OpenRouter's chunk schema takes an optional string: an unknown
	// fingerprint is left out, never null.
	if len(got) != 2 || got[0] != "" || got[1] != `"fp_1"` {
		t.Fatalf("fingerprints %q", got)
	}
}

// OpenAI's own API refuses OpenRouter's sampling parameters and "name" on
// tool messages; they are dropped before it, kept for a compatible host
// (which takes top_k), and the tool message keeps everything else.
func TestOpenRouterFieldsBeforeOpenAI(t *testing.T) {
	body := `{"model":"openai/gpt-4.1","top_k":5,"min_p":0.2,"messages":[{"role":"user","content":"q"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"c","name":"f","content":"<r&>"}]}`
	strict := pt.NewOpenAI(t, pt.Script{Text: "ok", Strict: true})
	if _, err := (openai.Adapter{}).Send(context.Background(), nil, upstream(strict), pt.Parse(t, body)); err != nil {
		t.Fatalf("strict OpenAI refused: %v", err)
	}
	var sent struct {
		TopK     *int                         `json:"top_k"`
		Messages []map[string]json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(strict.Last().Body, &sent); err != nil {
		t.Fatal(err)
	}
	tool := sent.Messages[2]
	if sent.TopK != nil || tool["name"] != nil || string(tool["tool_call_id"]) != `"c"` {
		t.Fatalf("sent %s", strict.Last().Body)
	}
	var content string
	if json.Unmarshal(tool["content"], &content) != nil || content != "<r&>" {
		t.Fatalf("tool content %s", tool["content"])
	}
	compat := pt.NewOpenAI(t, pt.Script{Text: "ok"})
	up := upstream(compat)
	up.Provider = "together"
	if _, err := (openai.Adapter{}).Send(context.Background(), nil, up, pt.Parse(t, body)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(compat.Last().Body), `"top_k":5`) {
		t.Fatalf("top_k not sent to a compatible host: %s", compat.Last().Body)
	}
}

// OpenAI's own API gets max_tokens as max_completion_tokens and none of the
// sampling parameters the upstream does not take; a compatible host gets
// the request as the client sent it.
func TestBodyFitsOpenAIsOwnAPI(t *testing.T) {
	srv := pt.NewOpenAI(t, pt.Script{Text: "ok"})
	body := `{"model":"m","max_tokens":50,"temperature":0.3,"top_p":0.5,"top_k":4,"messages":[{"role":"user","content":"hi"}]}`
	cases := []struct {
		provider string
		params   []string
		sent     []string // fields the upstream receives
		dropped  []string
	}{
		{"openai", []string{"max_tokens", "temperature", "top_p"}, []string{"max_completion_tokens", "temperature", "top_p"}, []string{"max_tokens", "top_k"}},
		{"openai", []string{"max_tokens", "reasoning"}, []string{"max_completion_tokens"}, []string{"max_tokens", "temperature", "top_p", "top_k"}},
		{"azure-openai", nil, []string{"max_completion_tokens", "temperature", "top_p"}, []string{"max_tokens", "top_k"}},
		{"deepseek", []string{"max_tokens"}, []string{"max_tokens", "temperature", "top_p", "top_k"}, []string{"max_completion_tokens"}},
	}
	for _, c := range cases {
		up := upstream(srv)
		up.Provider, up.Params = c.provider, c.params
		if _, err := (openai.Adapter{}).Send(context.Background(), http.DefaultClient, up, pt.Parse(t, body)); err != nil {
			t.Fatal(err)
		}
		var sent map[string]json.RawMessage
		if err := json.Unmarshal(srv.Last().Body, &sent); err != nil {
			t.Fatal(err)
		}
		for _, f := range c.sent {
			if sent[f] == nil {
				t.Errorf("%s %v: %s not sent in %s", c.provider, c.params, f, srv.Last().Body)
			}
		}
		for _, f := range c.dropped {
			if sent[f] != nil {
				t.Errorf("%s %v: %s sent in %s", c.provider, c.params, f, srv.Last().Body)
			}
		}
		if string(sent["max_completion_tokens"])+string(sent["max_tokens"]) != "50" {
			t.Errorf("%s: token limit lost: %s", c.provider, srv.Last().Body)
		}
	}
}
