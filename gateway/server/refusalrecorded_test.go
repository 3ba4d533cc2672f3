package server

import (
	"net/http"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A request refused once its key is known is a request.failed event, not
// billed: chat records the bodies it refuses, and so now do the endpoints
// that translate theirs into chat's (/messages, /responses, /completions),
// whose own refusals of a body left no trace of the request.
func TestEveryEndpointRecordsTheBodiesItRefuses(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/m": {{fake: "m", kind: "openai"}}}})
	cases := []struct{ path, body string }{
		{"/api/v1/chat/completions", `{"model":"test/m","messages":"hi"}`},
		{"/api/v1/messages", `{"model":"test/m","max_tokens":10,"messages":[{"role":"system","content":"hi"}]}`},
		{"/api/v1/responses", `{"model":"test/m","input":"hi","tools":[{"type":"web_search_preview"}]}`},
		{"/api/v1/completions", `{"model":"test/m","prompt":"hi","suffix":"there"}`},
		{"/api/v1/messages", `{"model":"test/m","max_tokens":10,"messages":[`},
	}
	for i, c := range cases {
		st, b := h.send("POST", c.path, map[string][]string{"Authorization": {"Bearer " + h.key}}, c.body)
		if st != http.StatusBadRequest {
			t.Fatalf("%s %s: %d %s, want 400", c.path, c.body, st, b)
		}
		h.srv.background.Wait() // failure events are appended off the request's path
		f := h.failed()
		if len(f) != i+1 {
			t.Fatalf("%s %s: %d request.failed events after %d refusals", c.path, c.body, len(f), i+1)
		}
		if last := f[len(f)-1]; last.Status != http.StatusBadRequest || last.Outcome != domain.OutcomeRejected || last.KeyID != h.keyID {
			t.Fatalf("%s: recorded as %+v", c.path, last)
		}
	}
	if c := h.completed(); len(c) != 0 {
		t.Fatalf("refused requests billed: %+v", c)
	}
}
