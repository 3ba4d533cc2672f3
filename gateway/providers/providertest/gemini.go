package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

func geminiStatus(code int) string {
	switch {
	case code == http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case code == http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case code >= 500:
		return "INTERNAL"
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return "PERMISSION_DENIED"
	case code == http.StatusNotFound:
		return "NOT_FOUND"
	}
	return "INVALID_ARGUMENT"
}

func geminiError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, obj{"error": obj{"code": code, "message": msg, "status": geminiStatus(code)}})
}

// geminiSignature is the thought signature this fake gives.
const geminiSignature = "Z2VtaW5p"

// unsignedFunctionCall is Gemini 3's rule: in the request's model turns,
// the first function call of each must carry the thought signature it came
// with. Gemini 2.5 takes them without.
func unsignedFunctionCall(model string, contents []json.RawMessage) string {
	if !strings.HasPrefix(model, "gemini-3") {
		return ""
	}
	for i, raw := range contents {
		var c struct {
			Role  string `json:"role"`
			Parts []struct {
				FunctionCall     json.RawMessage `json:"functionCall"`
				ThoughtSignature string          `json:"thoughtSignature"`
			} `json:"parts"`
		}
		if json.Unmarshal(raw, &c) != nil || c.Role != "model" {
			continue
		}
		for _, p := range c.Parts {
			if p.FunctionCall == nil {
				continue
			}
			if p.ThoughtSignature != geminiSignature {
				return fmt.Sprintf("Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:x` , position %d.", i+1)
			}
			break
		}
	}
	return ""
}

// thinkingConfigError is Gemini's rule for the thinking config: a budget
// or a level, never both; levels only from Gemini 3 on, and only those the
// model documents (Gemini 3 Pro: low and high; 3.1 Pro adds medium; Flash
// models: minimal, low, medium, high).
func thinkingConfigError(model string, budget bool, level string) string {
	if level == "" {
		return ""
	}
	if budget {
		return "You can only set only one of thinking budget and thinking level."
	}
	var levels []string
	switch {
	case !strings.HasPrefix(model, "gemini-3"):
		return "Thinking level is not supported for this model."
	case strings.HasPrefix(model, "gemini-3-pro"):
		levels = []string{"low", "high"}
	case strings.HasPrefix(model, "gemini-3.1-pro"):
		levels = []string{"low", "medium", "high"}
	default:
		levels = []string{"minimal", "low", "medium", "high"}
	}
	if !slices.Contains(levels, level) {
		return fmt.Sprintf("Thinking level %s is not supported for this model.", strings.ToUpper(level))
	}
	return ""
}

func serveGemini(w http.ResponseWriter, r *http.Request, body []byte, s Script) {
	path := r.URL.Path
	rest, ok := strings.CutPrefix(path, "/v1beta/models/")
	model, method, ok2 := strings.Cut(rest, ":")
	if r.Method != http.MethodPost || !ok || !ok2 || (method != "generateContent" && method != "streamGenerateContent") {
		geminiError(w, http.StatusNotFound, "unknown path "+path)
		return
	}
	stream := method == "streamGenerateContent"
	if stream && r.URL.Query().Get("alt") != "sse" {
		geminiError(w, http.StatusBadRequest, "the fake streams only with alt=sse")
		return
	}
	if r.Header.Get("x-goog-api-key") == "" {
		geminiError(w, http.StatusForbidden, "Method doesn't allow unregistered callers. Please use API Key.")
		return
	}
	var req struct {
		Contents         []json.RawMessage `json:"contents"`
		GenerationConfig struct {
			ThinkingConfig *struct {
				ThinkingBudget *int   `json:"thinkingBudget"`
				ThinkingLevel  string `json:"thinkingLevel"`
			} `json:"thinkingConfig"`
		} `json:"generationConfig"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Contents) == 0 {
		geminiError(w, http.StatusBadRequest, "contents is required")
		return
	}
	if msg := emptyObjectSchema(body); msg != "" {
		geminiError(w, http.StatusBadRequest, msg)
		return
	}
	if tc := req.GenerationConfig.ThinkingConfig; tc != nil {
		if msg := thinkingConfigError(model, tc.ThinkingBudget != nil, tc.ThinkingLevel); msg != "" {
			geminiError(w, http.StatusBadRequest, msg)
			return
		}
	}
	if msg := unsignedFunctionCall(model, req.Contents); msg != "" {
		geminiError(w, http.StatusBadRequest, msg)
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
		geminiError(w, s.Status, msg)
		return
	}
	if s.Model != "" {
		model = s.Model
	}
	finish := map[string]string{"stop": "STOP", "tool_calls": "STOP", "length": "MAX_TOKENS", "content_filter": "SAFETY"}[s.finish()]
	u := s.usage()
	usageAt := func(completion, reasoning int) obj {
		m := obj{"promptTokenCount": u.Prompt, "candidatesTokenCount": completion - reasoning,
			"totalTokenCount": u.Prompt + completion, "promptTokensDetails": []obj{{"modality": "TEXT", "tokenCount": u.Prompt}}}
		if u.Cached > 0 {
			m["cachedContentTokenCount"] = u.Cached
		}
		if reasoning > 0 {
			m["thoughtsTokenCount"] = reasoning
		}
		return m
	}
	callParts := func() []obj {
		var parts []obj
		for i, tc := range s.ToolCalls {
			p := obj{"functionCall": obj{"name": tc.Name, "args": json.RawMessage(tc.Arguments)}}
			if i == 0 && s.Reasoning != "" { // a thinking model signs its first call
				p["thoughtSignature"] = geminiSignature
			}
			parts = append(parts, p)
		}
		return parts
	}
	response := func(parts []obj, finish string, usage obj) []byte {
		cand := obj{"content": obj{"role": "model", "parts": parts}, "index": 0}
		if finish != "" {
			cand["finishReason"] = finish
		}
		return mustJSON(obj{"candidates": []obj{cand}, "usageMetadata": usage, "modelVersion": model, "responseId": "resp-fake123"})
	}
	if !stream {
		var parts []obj
		if s.Reasoning != "" {
			parts = append(parts, obj{"text": s.Reasoning, "thought": true})
		}
		if s.Text != "" {
			parts = append(parts, obj{"text": s.Text})
		}
		parts = append(parts, callParts()...)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(response(parts, finish, usageAt(u.Completion, u.Reasoning)))
		return
	}
	e := startSSE(w, r, s)
	pieces := split(s.Text, s.chunks())
	if s.Text == "" {
		pieces = nil
	}
	// Usage is cumulative on every chunk, as Gemini reports it.
	n := len(pieces)
	if s.Reasoning != "" {
		e.send("", response([]obj{{"text": s.Reasoning, "thought": true}}, "", usageAt(u.Reasoning, u.Reasoning)))
	}
	for i, p := range pieces {
		last := i == n-1 && len(s.ToolCalls) == 0
		f := ""
		completion := u.Reasoning + (u.Completion-u.Reasoning)*(i+1)/max(n, 1)
		if last {
			f, completion = finish, u.Completion
		}
		e.send("", response([]obj{{"text": p}}, f, usageAt(completion, u.Reasoning)))
		if s.CutAfter > 0 && i+1 >= s.CutAfter {
			if s.ErrorEvent {
				msg, status := s.eventError("The model is overloaded.", "UNAVAILABLE")
				e.send("", mustJSON(obj{"error": obj{"code": 503, "message": msg, "status": status}}))
			}
			e.cut()
		}
	}
	if len(s.ToolCalls) > 0 {
		e.send("", response(callParts(), finish, usageAt(u.Completion, u.Reasoning)))
	}
}

// emptyObjectSchema returns Gemini's complaint about a tool's parameters
// or a response schema holding an object with an empty properties map
// (what a tool without arguments declares in JSON Schema), or "".
func emptyObjectSchema(body []byte) string {
	var req struct {
		Tools []struct {
			FunctionDeclarations []struct {
				Parameters any `json:"parameters"`
			} `json:"functionDeclarations"`
		} `json:"tools"`
		GenerationConfig struct {
			ResponseSchema any `json:"responseSchema"`
		} `json:"generationConfig"`
	}
	if json.Unmarshal(body, &req) != nil {
		return ""
	}
	for i, t := range req.Tools {
		for j, d := range t.FunctionDeclarations {
			if p := emptyObjectAt(d.Parameters, fmt.Sprintf("GenerateContentRequest.tools[%d].function_declarations[%d].parameters", i, j)); p != "" {
				return "* " + p + ".properties: should be non-empty for OBJECT type"
			}
		}
	}
	if p := emptyObjectAt(req.GenerationConfig.ResponseSchema, "GenerateContentRequest.generation_config.response_schema"); p != "" {
		return "* " + p + ".properties: should be non-empty for OBJECT type"
	}
	return ""
}

// emptyObjectAt returns the path of the first object schema under v whose
// properties are present and empty, or "".
func emptyObjectAt(v any, path string) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	props, hasProps := m["properties"].(map[string]any)
	if typ, _ := m["type"].(string); strings.EqualFold(typ, "object") && hasProps && len(props) == 0 {
		return path
	}
	for name, p := range props {
		if found := emptyObjectAt(p, path+".properties["+name+"]"); found != "" {
			return found
		}
	}
	if found := emptyObjectAt(m["items"], path+".items"); found != "" {
		return found
	}
	if list, ok := m["anyOf"].([]any); ok {
		for i, alt := range list {
			if found := emptyObjectAt(alt, fmt.Sprintf("%s.any_of[%d]", path, i)); found != "" {
				return found
			}
		}
	}
	return ""
}
