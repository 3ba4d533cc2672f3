package providertest

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
)

// DefaultDimensions is the length of the fake's vectors when the request
// asks for none.
const DefaultDimensions = 8

// FakeVector is the vector the fakes return for a text: deterministic, unit
// length, so tests can check which input got which vector.
func FakeVector(text string, dims int) []float64 {
	if dims <= 0 {
		dims = DefaultDimensions
	}
	v := make([]float64, dims)
	var norm float64
	for i := range v {
		h := fnv.New64a()
		h.Write([]byte{byte(i), byte(i >> 8)})
		h.Write([]byte(text))
		v[i] = float64(int64(h.Sum64()%2001)-1000) / 1000
		norm += v[i] * v[i]
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = math.Round(v[i]/norm*1e6) / 1e6
	}
	return v
}

// fakeTokens is the fake's token count of a text: its words, at least one.
// Script.Usage.Prompt overrides the total.
func fakeTokens(text string) int { return max(1, len(strings.Fields(text))) }

// serveEmbeddings answers an embeddings call in kind's wire format and
// reports whether the request was one.
func serveEmbeddings(kind string, w http.ResponseWriter, r *http.Request, body []byte, s Script) bool {
	switch {
	case kind == KindOpenAI && r.URL.Path == "/v1/embeddings":
		serveOpenAIEmbeddings(w, r, body, s)
	case kind == KindGemini && strings.HasSuffix(r.URL.Path, ":batchEmbedContents"):
		serveGeminiEmbeddings(w, r, body, s)
	default:
		return false
	}
	return true
}

func serveOpenAIEmbeddings(w http.ResponseWriter, r *http.Request, body []byte, s Script) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		writeJSON(w, http.StatusUnauthorized, obj{"error": obj{"message": "missing API key", "type": "invalid_request_error", "code": "invalid_api_key"}})
		return
	}
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		Dimensions     int             `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" || len(req.Input) == 0 {
		writeJSON(w, http.StatusBadRequest, obj{"error": obj{"message": "model and input are required", "type": "invalid_request_error"}})
		return
	}
	if s.Status >= 300 {
		if s.RetryAfter != "" {
			w.Header().Set("Retry-After", s.RetryAfter)
		}
		writeJSON(w, s.Status, obj{"error": obj{"message": s.ErrorMessage, "type": "server_error"}})
		return
	}
	// input: a string, strings, a token array or token arrays.
	var texts, many []string
	var one string
	var tokens, arrays [][]int
	var flat []int
	switch {
	case json.Unmarshal(req.Input, &one) == nil:
		texts = []string{one}
	case json.Unmarshal(req.Input, &many) == nil:
		texts = many
	case json.Unmarshal(req.Input, &flat) == nil:
		tokens = [][]int{flat}
	case json.Unmarshal(req.Input, &arrays) == nil:
		tokens = arrays
	default:
		writeJSON(w, http.StatusBadRequest, obj{"error": obj{"message": "input must be a string, strings or token arrays", "type": "invalid_request_error"}})
		return
	}
	for _, t := range tokens {
		b, _ := json.Marshal(t)
		texts = append(texts, string(b))
	}
	data := make([]obj, len(texts))
	prompt := 0
	for i, t := range texts {
		data[i] = obj{"object": "embedding", "index": i, "embedding": FakeVector(t, req.Dimensions)}
		if tokens != nil {
			prompt += len(tokens[i])
		} else {
			prompt += fakeTokens(t)
		}
	}
	if s.Usage.Prompt > 0 {
		prompt = s.Usage.Prompt
	}
	writeJSON(w, http.StatusOK, obj{"object": "list", "data": data, "model": req.Model,
		"usage": obj{"prompt_tokens": prompt, "total_tokens": prompt}})
}

func serveGeminiEmbeddings(w http.ResponseWriter, r *http.Request, body []byte, s Script) {
	if r.Header.Get("x-goog-api-key") == "" {
		geminiError(w, http.StatusForbidden, "Method doesn't allow unregistered callers. Please use API Key.")
		return
	}
	model := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1beta/models/"), ":batchEmbedContents")
	var req struct {
		Requests []struct {
			Model   string `json:"model"`
			Content struct {
				Parts []struct {
					Text string `json:"text"`
				} `json:"parts"`
			} `json:"content"`
			OutputDimensionality int `json:"outputDimensionality"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Requests) == 0 {
		geminiError(w, http.StatusBadRequest, "requests is required")
		return
	}
	if s.Status >= 300 {
		if s.RetryAfter != "" {
			w.Header().Set("Retry-After", s.RetryAfter)
		}
		geminiError(w, s.Status, s.ErrorMessage)
		return
	}
	out := make([]obj, len(req.Requests))
	for i, q := range req.Requests {
		if q.Model != "models/"+model {
			geminiError(w, http.StatusBadRequest, "requests["+itoa(i)+"].model must be models/"+model)
			return
		}
		var text strings.Builder
		for _, p := range q.Content.Parts {
			text.WriteString(p.Text)
		}
		out[i] = obj{"values": FakeVector(text.String(), q.OutputDimensionality)}
	}
	// Gemini's batch endpoint reports no token usage.
	writeJSON(w, http.StatusOK, obj{"embeddings": out})
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
