package server

import (
	"fmt"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// An embedding upstream's refusal that is not about the input (its key
// refused, the model unknown to it, its account unpaid) was answered 400
// invalid_request_error, telling the client to change a request it cannot
// fix; chat answers those 502. Both endpoints now answer an upstream's
// status alike: 400 and 422 are the client's 400, 413 its 413, the others
// the gateway's 502.
func TestEmbeddingUpstreamRefusalsAnswerAsChat(t *testing.T) {
	for _, c := range []struct{ upstream, want int }{
		{400, 400}, {422, 400}, {413, 413}, {401, 502}, {402, 502}, {403, 502}, {404, 502},
	} {
		t.Run(fmt.Sprint(c.upstream), func(t *testing.T) {
			h := embedHarness(t, harnessOpts{scripts: map[string]providertest.Script{
				"openai": {Status: c.upstream, ErrorMessage: "refused upstream"}}})
			resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hi"}`)
			e := decodeError(t, b)
			if resp.StatusCode != c.want || e.Error.Code != c.want {
				t.Fatalf("embeddings: %d, want %d: %s", resp.StatusCode, c.want, b)
			}
			resp, b = h.post(`{"model":"openai/gpt-4.1","messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != c.want {
				t.Fatalf("chat: %d, want %d: %s", resp.StatusCode, c.want, b)
			}
			if len(h.completed()) != 0 {
				t.Fatal("a refused request was billed")
			}
			h.waitHeldZero()
		})
	}
}
