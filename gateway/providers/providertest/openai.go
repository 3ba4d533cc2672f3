package providertest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type obj = map[string]any

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func serveOpenAI(w http.ResponseWriter, r *http.Request, body []byte, s Script) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeJSON(w, http.StatusNotFound, obj{"error": obj{"message": "unknown path " + r.URL.Path, "type": "invalid_request_error"}})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || len(r.Header.Get("Authorization")) < 8 {
		writeJSON(w, http.StatusUnauthorized, obj{"error": obj{"message": "missing API key", "type": "invalid_request_error", "code": "invalid_api_key"}})
		return
	}
	var req struct {
		Model         string `json:"model"`
		Stream        bool   `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, obj{"error": obj{"message": "bad JSON: " + err.Error(), "type": "invalid_request_error"}})
		return
	}
	if s.Strict {
		if msg := strictOpenAI(body); msg != "" {
			writeJSON(w, http.StatusBadRequest, obj{"error": obj{"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}})
			return
		}
	}
	if s.Mistral {
		if k, v := mistralExtra(body); k != "" {
			writeJSON(w, http.StatusUnprocessableEntity, obj{"object": "error", "message": obj{"detail": []obj{{"type": "extra_forbidden",
				"loc": []string{"body", k}, "msg": "Extra inputs are not permitted", "input": v}}}, "type": "invalid_request_error", "param": nil, "code": nil})
			return
		}
	}
	if s.XAIReasoner {
		var top map[string]json.RawMessage
		_ = json.Unmarshal(body, &top)
		for k, name := range map[string]string{"presence_penalty": "presencePenalty", "frequency_penalty": "frequencyPenalty", "stop": "stop"} {
			if _, ok := top[k]; ok {
				writeJSON(w, http.StatusBadRequest, obj{"code": "Client specified an invalid argument", "error": "Model " + req.Model + " does not support parameter " + name + "."})
				return
			}
		}
	}
	if s.DeepSeekReasoner {
		var top map[string]json.RawMessage
		_ = json.Unmarshal(body, &top)
		for _, k := range []string{"logprobs", "top_logprobs"} {
			if _, ok := top[k]; ok {
				writeJSON(w, http.StatusBadRequest, obj{"error": obj{"message": "deepseek-reasoner does not support " + k, "type": "invalid_request_error", "param": nil, "code": "invalid_request_error"}})
				return
			}
		}
	}
	if s.Groq {
		if msg := groqRefusal(body); msg != "" {
			writeJSON(w, http.StatusBadRequest, obj{"error": obj{"message": msg, "type": "invalid_request_error"}})
			return
		}
	}
	if s.Reasoner {
		if msg := reasonerRefusal(body); msg != "" {
			writeJSON(w, http.StatusBadRequest, obj{"error": obj{"message": msg, "type": "invalid_request_error", "param": nil, "code": "unsupported_parameter"}})
			return
		}
	}
	if msg := effortRefusal(body, s.Efforts); msg != "" {
		writeJSON(w, http.StatusBadRequest, obj{"error": obj{"message": msg, "type": "invalid_request_error", "param": "reasoning_effort", "code": "unsupported_value"}})
		return
	}
	if s.NoReasoning && strings.Contains(string(body), `"reasoning_effort"`) {
		writeJSON(w, http.StatusBadRequest, obj{"error": obj{"message": "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
			"type": "invalid_request_error", "param": "reasoning_effort", "code": "unsupported_parameter"}})
		return
	}
	if s.Status >= 300 {
		if s.RetryAfter != "" {
			w.Header().Set("Retry-After", s.RetryAfter)
		}
		msg := s.ErrorMessage
		if msg == "" {
			msg = http.StatusText(s.Status)
		}
		typ := "server_error"
		if s.Status == http.StatusTooManyRequests {
			typ = "rate_limit_exceeded"
		} else if s.Status < 500 {
			typ = "invalid_request_error"
		}
		writeJSON(w, s.Status, obj{"error": obj{"message": msg, "type": typ, "param": nil, "code": nil}})
		return
	}
	model := s.Model
	if model == "" {
		model = req.Model
	}
	u := s.usage()
	usage := obj{
		"prompt_tokens": u.Prompt, "completion_tokens": u.Completion, "total_tokens": u.Prompt + u.Completion,
		"prompt_tokens_details":     obj{"cached_tokens": u.Cached, "audio_tokens": 0},
		"completion_tokens_details": obj{"reasoning_tokens": u.Reasoning, "audio_tokens": 0},
	}
	if u.CacheWrite > 0 {
		// OpenRouter and hosts like it report cache writes here.
		usage["prompt_tokens_details"].(obj)["cache_write_tokens"] = u.CacheWrite
	}
	id, created := "chatcmpl-fake123", time.Now().Unix()
	if s.Created != 0 {
		created = s.Created
	}
	if !req.Stream {
		msg := obj{"role": "assistant", "content": s.Text, "refusal": nil}
		if s.Reasoning != "" {
			msg["reasoning_content"] = s.Reasoning // as DeepSeek names it
		}
		if len(s.ToolCalls) > 0 {
			calls := make([]obj, len(s.ToolCalls))
			for i, tc := range s.ToolCalls {
				calls[i] = obj{"id": s.toolCallID(i), "type": "function", "function": obj{"name": tc.Name, "arguments": tc.Arguments}}
			}
			msg["tool_calls"] = calls
			if s.Text == "" {
				msg["content"] = nil
			}
		}
		writeJSON(w, http.StatusOK, obj{
			"id": id, "object": "chat.completion", "created": created, "model": model,
			"choices":            []obj{{"index": 0, "message": msg, "logprobs": nil, "finish_reason": s.finish()}},
			"usage":              usage,
			"system_fingerprint": "fp_fake",
		})
		return
	}
	e := startSSE(w, r, s)
	chunk := func(delta obj, finish any) []byte {
		return mustJSON(obj{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"system_fingerprint": "fp_fake", "choices": []obj{{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}})
	}
	e.send("", chunk(obj{"role": "assistant", "content": "", "refusal": nil}, nil))
	if s.ErrorFirst {
		msg, code := s.eventError("upstream overloaded", "503")
		var c any = code // a number when it reads as one, as OpenRouter's and vLLM's are
		if n, err := strconv.Atoi(code); err == nil {
			c = n
		}
		e.send("", mustJSON(obj{"error": obj{"message": msg, "type": "server_error", "code": c}}))
		return
	}
	if s.Reasoning != "" {
		e.send("", chunk(obj{"reasoning_content": s.Reasoning}, nil))
	}
	sent := 0
	maybeCut := func() {
		sent++
		if s.CutAfter > 0 && sent >= s.CutAfter {
			if s.ErrorEvent {
				msg, code := s.eventError("upstream overloaded", "")
				ev := obj{"message": msg, "type": "server_error"}
				if code != "" {
					ev["code"] = code
				}
				e.send("", mustJSON(obj{"error": ev}))
			}
			e.cut()
		}
	}
	if s.Text != "" {
		// Content chunks are spliced from a fixed head and tail: the fake
		// stands in for a zero-cost upstream in load tests, so it should
		// spend as little CPU as it can.
		head := []byte(`{"id":"` + id + `","object":"chat.completion.chunk","created":` + strconv.FormatInt(created, 10) +
			`,"model":` + string(mustJSON(model)) + `,"system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":`)
		const tail = `},"logprobs":null,"finish_reason":null}]}`
		for _, piece := range split(s.Text, s.chunks()) {
			b := append(append(append(make([]byte, 0, len(head)+len(piece)+64), head...), mustJSON(piece)...), tail...)
			e.send("", b)
			maybeCut()
		}
	}
	for i, tc := range s.ToolCalls {
		e.send("", chunk(obj{"tool_calls": []obj{{"index": i, "id": s.toolCallID(i), "type": "function",
			"function": obj{"name": tc.Name, "arguments": ""}}}}, nil))
		for _, piece := range split(tc.Arguments, 3) {
			e.send("", chunk(obj{"tool_calls": []obj{{"index": i, "function": obj{"arguments": piece}}}}, nil))
			maybeCut()
		}
	}
	if s.Mistral {
		e.send("", mustJSON(obj{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []obj{{"index": 0, "delta": obj{"content": ""}, "finish_reason": s.finish()}}, "usage": usage}))
		e.send("", []byte("[DONE]"))
		return
	}
	e.send("", chunk(obj{}, s.finish()))
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		e.send("", mustJSON(obj{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"system_fingerprint": "fp_fake", "choices": []obj{}, "usage": usage}))
	}
	e.send("", []byte("[DONE]"))
}

// openAIFields are the top-level fields of OpenAI's chat completions.
var openAIFields = map[string]bool{
	"model": true, "messages": true, "audio": true, "frequency_penalty": true, "function_call": true,
	"functions": true, "logit_bias": true, "logprobs": true, "max_completion_tokens": true, "max_tokens": true,
	"metadata": true, "modalities": true, "n": true, "parallel_tool_calls": true, "prediction": true,
	"presence_penalty": true, "prompt_cache_key": true, "reasoning_effort": true, "response_format": true,
	"safety_identifier": true, "seed": true, "service_tier": true, "stop": true, "store": true, "stream": true,
	"stream_options": true, "temperature": true, "tool_choice": true, "tools": true, "top_logprobs": true,
	"top_p": true, "user": true, "verbosity": true, "web_search_options": true,
}

// mistralFields are the top-level fields of Mistral's chat completions.
var mistralFields = map[string]bool{
	"model": true, "messages": true, "temperature": true, "top_p": true, "max_tokens": true, "stream": true,
	"stop": true, "random_seed": true, "response_format": true, "tools": true, "tool_choice": true,
	"presence_penalty": true, "frequency_penalty": true, "n": true, "prediction": true,
	"parallel_tool_calls": true, "prompt_mode": true, "safe_prompt": true,
}

// mistralExtra returns the first field of body Mistral's schema lacks, and
// its value, or "".
func mistralExtra(body []byte) (string, json.RawMessage) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "body", nil
	}
	for k, v := range top {
		if !mistralFields[k] {
			return k, v
		}
	}
	var msgs []map[string]json.RawMessage
	_ = json.Unmarshal(top["messages"], &msgs)
	for i, m := range msgs {
		var role string
		_ = json.Unmarshal(m["role"], &role)
		for k, v := range m {
			if !mistralMessageFields[role][k] {
				return "messages." + strconv.Itoa(i) + "." + role + "." + k, v
			}
		}
	}
	return "", nil
}

// mistralMessageFields are the members of each role's message in
// Mistral's schema.
var mistralMessageFields = map[string]map[string]bool{
	"system":    {"role": true, "content": true},
	"user":      {"role": true, "content": true},
	"assistant": {"role": true, "content": true, "tool_calls": true, "prefix": true},
	"tool":      {"role": true, "content": true, "tool_call_id": true, "name": true},
}

// groqRefusal returns what Groq answers to a field its API documents as
// refused ("will result in a 400 error"), or "".
func groqRefusal(body []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "bad JSON"
	}
	for _, k := range []string{"logprobs", "logit_bias", "top_logprobs"} {
		if _, ok := top[k]; ok {
			return "property '" + k + "' is unsupported"
		}
	}
	var msgs []map[string]json.RawMessage
	_ = json.Unmarshal(top["messages"], &msgs)
	for i, m := range msgs {
		if _, ok := m["name"]; ok {
			return "'messages." + strconv.Itoa(i) + "' : property 'name' is unsupported"
		}
	}
	return ""
}

// effortRefusal returns OpenAI's answer to a reasoning_effort the model
// does not take, or "" (also when efforts is empty: no check).
func effortRefusal(body []byte, efforts []string) string {
	var req struct {
		Effort *string `json:"reasoning_effort"`
	}
	if len(efforts) == 0 || json.Unmarshal(body, &req) != nil || req.Effort == nil || slices.Contains(efforts, *req.Effort) {
		return ""
	}
	return "Unsupported value: 'reasoning_effort' does not support '" + *req.Effort + "' with this model. Supported values are: '" + strings.Join(efforts, "', '") + "'."
}

// reasonerRefusal returns what OpenAI's reasoning models answer to a
// parameter they do not take, or "".
func reasonerRefusal(body []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "bad JSON"
	}
	if _, ok := top["max_tokens"]; ok {
		return "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
	}
	for _, k := range []string{"temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "logit_bias", "stop", "parallel_tool_calls"} {
		if _, ok := top[k]; ok {
			return "Unsupported parameter: '" + k + "' is not supported with this model."
		}
	}
	return ""
}

// strictOpenAI returns OpenAI's complaint about a body, or "".
func strictOpenAI(body []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "bad JSON"
	}
	for k := range top {
		if !openAIFields[k] {
			return "Unrecognized request argument supplied: " + k
		}
	}
	// metadata is kept with a stored completion alone.
	if md, ok := top["metadata"]; ok && string(md) != "null" && string(top["store"]) != "true" {
		return "The 'metadata' parameter is only allowed when 'store' is enabled."
	}
	// stream_options belongs to streams: OpenAI (and vLLM, behind many
	// compatible hosts) refuses it on a request that does not stream.
	if so, ok := top["stream_options"]; ok && string(so) != "null" && string(top["stream"]) != "true" {
		return "The 'stream_options' parameter is only allowed when 'stream' is enabled."
	}
	// What OpenAI refuses of tools: an empty list, and the options of
	// tools in a request that has none.
	var tools []json.RawMessage
	_ = json.Unmarshal(top["tools"], &tools)
	if t, ok := top["tools"]; ok && string(t) != "null" && len(tools) == 0 {
		return "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead."
	}
	for _, k := range []string{"tool_choice", "parallel_tool_calls"} {
		if v, ok := top[k]; ok && string(v) != "null" && len(tools) == 0 {
			return "Invalid value for '" + k + "': '" + k + "' is only allowed when 'tools' are specified."
		}
	}
	var msgs []map[string]json.RawMessage
	_ = json.Unmarshal(top["messages"], &msgs)
	for i, m := range msgs {
		if _, ok := m["name"]; ok && string(m["role"]) == `"tool"` {
			return "Additional properties are not allowed ('name' was unexpected) - 'messages." + strconv.Itoa(i) + "'"
		}
		if tc, ok := m["tool_calls"]; ok && strings.Join(strings.Fields(string(tc)), "") == "[]" {
			return "Invalid 'messages[" + strconv.Itoa(i) + "].tool_calls': empty array. Expected an array with minimum length 1, but got an empty array instead."
		}
	}
	return strictTools(top["tools"])
}

// openAIToolFields are the members OpenAI's API takes on a tool and on its
// function.
var (
	openAIToolFields     = map[string]bool{"type": true, "function": true}
	openAIFunctionFields = map[string]bool{"name": true, "description": true, "parameters": true, "strict": true}
)

// strictTools returns OpenAI's complaint about a member of a tool or of its
// function that its schema lacks (Anthropic's eager_input_streaming), or "".
func strictTools(raw json.RawMessage) string {
	var tools []map[string]json.RawMessage
	_ = json.Unmarshal(raw, &tools)
	unknown := func(param string) string {
		return "Invalid '" + param[:strings.LastIndexByte(param, '.')] + "': Unknown parameter: '" + param + "'."
	}
	for i, t := range tools {
		for k := range t {
			if !openAIToolFields[k] {
				return unknown("tools[" + strconv.Itoa(i) + "]." + k)
			}
		}
		var fn map[string]json.RawMessage
		_ = json.Unmarshal(t["function"], &fn)
		for k := range fn {
			if !openAIFunctionFields[k] {
				return unknown("tools[" + strconv.Itoa(i) + "].function." + k)
			}
		}
	}
	return ""
}
