package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// Embed calls POST /embeddings. Vectors are always asked for as floats:
// the gateway encodes base64 itself, the same way for every upstream.
func Embed(ctx context.Context, hc *http.Client, up core.Upstream, req *core.EmbedRequest) (*core.Embeddings, error) {
	body := map[string]any{"model": up.Model, "encoding_format": "float"}
	if req.Tokens != nil {
		body["input"] = req.Tokens
	} else {
		body["input"] = req.Texts
	}
	if req.Dimensions > 0 {
		body["dimensions"] = req.Dimensions
	}
	if req.User != "" {
		body["user"] = req.User
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	header := http.Header{"Authorization": {"Bearer " + up.APIKey}}
	resp, err := core.Post(ctx, hc, up.Provider, strings.TrimSuffix(up.BaseURL, "/")+"/embeddings", b, false, header)
	if err != nil {
		return nil, err
	}
	rb, err := core.ReadBody(up.Provider, resp)
	if err != nil {
		return nil, err
	}
	var r struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
		Usage json.RawMessage `json:"usage"`
	}
	if err := json.Unmarshal(rb, &r); err != nil {
		return nil, core.BadResponse(up.Provider, err)
	}
	n := len(req.Texts) + len(req.Tokens)
	if len(r.Data) != n {
		return nil, core.BadResponse(up.Provider, fmt.Errorf("%d embeddings for %d inputs", len(r.Data), n))
	}
	out := &core.Embeddings{Vectors: make([][]float64, n)}
	if len(r.Usage) > 0 {
		// A count not written as an integer is the gateway's to
		// refuse, not a reason to fail the answer.
		var u struct {
			PromptTokens int `json:"prompt_tokens"`
		}
		out.UnreadableUsage = json.Unmarshal(r.Usage, &u) != nil
		out.PromptTokens = u.PromptTokens
	}
	for _, d := range r.Data {
		if d.Index < 0 || d.Index >= n || out.Vectors[d.Index] != nil {
			return nil, core.BadResponse(up.Provider, fmt.Errorf("embedding index %d out of place", d.Index))
		}
		out.Vectors[d.Index] = d.Embedding
	}
	return out, nil
}
