package gemini

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// Embed calls models/{model}:batchEmbedContents, one request per text.
// Gemini takes text only: token arrays are refused before the call.
func Embed(ctx context.Context, hc *http.Client, up core.Upstream, req *core.EmbedRequest) (*core.Embeddings, error) {
	if req.Tokens != nil {
		return nil, &core.UpstreamError{Provider: up.Provider, Status: http.StatusBadRequest,
			Message: "Gemini embedding models take text only, not token arrays"}
	}
	type part struct {
		Text string `json:"text"`
	}
	type content struct {
		Parts []part `json:"parts"`
	}
	type embedReq struct {
		Model                string  `json:"model"`
		Content              content `json:"content"`
		OutputDimensionality int     `json:"outputDimensionality,omitempty"`
	}
	reqs := make([]embedReq, len(req.Texts))
	for i, t := range req.Texts {
		reqs[i] = embedReq{Model: "models/" + up.Model, Content: content{Parts: []part{{Text: t}}}, OutputDimensionality: req.Dimensions}
	}
	b, err := json.Marshal(map[string]any{"requests": reqs})
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(strings.TrimSuffix(up.BaseURL, "/"), "/v1beta") + "/v1beta/models/" + up.Model + ":batchEmbedContents"
	resp, err := core.Post(ctx, hc, up.Provider, url, b, false, http.Header{"X-Goog-Api-Key": {up.APIKey}})
	if err != nil {
		return nil, err
	}
	rb, err := core.ReadBody(up.Provider, resp)
	if err != nil {
		return nil, err
	}
	var r struct {
		Embeddings []struct {
			Values []float64 `json:"values"`
		} `json:"embeddings"`
	}
	if err := json.Unmarshal(rb, &r); err != nil {
		return nil, core.BadResponse(up.Provider, err)
	}
	if len(r.Embeddings) != len(req.Texts) {
		return nil, core.BadResponse(up.Provider, fmt.Errorf("%d embeddings for %d inputs", len(r.Embeddings), len(req.Texts)))
	}
	out := &core.Embeddings{Vectors: make([][]float64, len(r.Embeddings))}
	for i, e := range r.Embeddings {
		out.Vectors[i] = e.Values
	}
	return out, nil
}
