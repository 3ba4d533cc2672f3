package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// A key revoked, disabled or whose account is suspended stops working at
// once, streams it already opened included: a leaked key is not left
// writing for as long as a model writes. The stream ends with a 401 error
// chunk and is billed for what was delivered.
func TestAStreamEndsWhenItsKeyStopsWorking(t *testing.T) {
	for _, c := range []struct {
		name string
		stop func(h *harness) error
		code float64
	}{
		{"revoked", func(h *harness) error { return h.cmds.RevokeKey(context.Background(), h.keyID) }, 401},
		{"disabled", func(h *harness) error { return h.cmds.SetKeyDisabled(context.Background(), h.keyID, true) }, 401},
		{"suspended", func(h *harness) error {
			return h.cmds.SuspendAccount(context.Background(), h.account, "chargeback")
		}, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			words := strings.Repeat("w ", 200)
			h := newHarness(t, harnessOpts{
				scripts: map[string]providertest.Script{"openai": {Text: words, Chunks: 200, ChunkDelay: 20 * time.Millisecond,
					Usage: providertest.Usage{Prompt: 10, Completion: 1000}}},
				cfg: Config{KeyRecheck: 10 * time.Millisecond},
			})
			_, r := openStream(t, h.http.URL, h.key, chatBody("test/openai", 1000, true))
			if err := c.stop(h); err != nil {
				t.Fatal(err)
			}
			h.catchUp()
			var content int
			var last map[string]any
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					break
				}
				if line == "data: [DONE]\n" {
					t.Fatal("the stream ran to its end after its key stopped working")
				}
				if !strings.HasPrefix(line, "data: {") {
					continue
				}
				last = nil
				if err := json.Unmarshal([]byte(line[len("data: "):]), &last); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(line, `"content":"w`) {
					content++
				}
			}
			if content >= 200 {
				t.Fatalf("all %d chunks were relayed", content)
			}
			e, _ := last["error"].(map[string]any)
			if e == nil || e["code"] != c.code || !strings.Contains(e["message"].(string), "billed for what was delivered") {
				t.Fatalf("last chunk %v: want an error chunk of code %v", last, c.code)
			}
			h.waitHeldZero()
			ev := h.onlyCompleted(domain.OutcomeKeyStoppedMid)
			if !ev.Usage.Estimated || ev.Usage.Output <= 0 || ev.Usage.Output >= 1000 || ev.FinishReason != "error" || !ev.Cost.IsPositive() {
				t.Fatalf("event %+v", ev)
			}
		})
	}
}
