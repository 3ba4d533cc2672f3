package providers

import (
	"context"
	"net/http"

	"github.com/routefree/routefree/gateway/providers/gemini"
	"github.com/routefree/routefree/gateway/providers/internal/core"
	"github.com/routefree/routefree/gateway/providers/openai"
)

// Embeddings requests and answers.
type (
	EmbedRequest = core.EmbedRequest
	Embeddings   = core.Embeddings
)

// Embed asks an upstream for embeddings: OpenAI-shaped hosts through
// /embeddings, Gemini through batchEmbedContents. Anthropic has no
// embeddings API.
func Embed(ctx context.Context, hc *http.Client, up Upstream, req *EmbedRequest) (*Embeddings, error) {
	switch up.Kind {
	case KindOpenAI:
		return openai.Embed(ctx, hc, up, req)
	case KindGemini:
		return gemini.Embed(ctx, hc, up, req)
	}
	return nil, &UpstreamError{Provider: up.Provider, Status: http.StatusBadRequest, Message: "this upstream kind serves no embeddings: " + up.Kind}
}
