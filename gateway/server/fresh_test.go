package server

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// noEventReads hides the store's reads by event ID, as KurrentDB has none:
// /generation then has only the read models to answer from.
type noEventReads struct{ eventstore.Store }

// A client reads its own request in /credits, /key and /generation as soon
// as the request's last byte has arrived, though the read models apply a
// commit only a moment after it. Here the store's subscriptions wait an
// hour after a commit (and poll hourly), so only the gateway's wait for its
// own appends can show the request.
func TestKeyFiguresReadTheirOwnRequests(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(cleanTempDir(t), "events.db"), sqlite.Options{PollInterval: time.Hour, Coalesce: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := newHarness(t, harnessOpts{store: noEventReads{st}, credit: "1000"})

	used := decimal.Zero
	for i := range 3 {
		resp, body := h.post(fmt.Sprintf(`{"model":"test/openai","messages":[{"role":"user","content":"hi %d"}]}`, i))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("chat: %d %s", resp.StatusCode, body)
		}
		id := resp.Header.Get("X-Request-Id")
		done := h.completed()
		if len(done) != i+1 {
			t.Fatalf("%d request events, want %d", len(done), i+1)
		}
		cost := done[i].Cost
		used = used.Add(cost)

		code, cr := h.getJSON("/api/v1/credits", h.key)
		if code != http.StatusOK {
			t.Fatalf("/credits: %d %v", code, cr)
		}
		if got := numOf(t, cr["data"].(map[string]any)["total_usage"]); !got.Equal(used) {
			t.Errorf("request %d: /credits total_usage %s, want %s", i, got, used)
		}
		code, kr := h.getJSON("/api/v1/key", h.key)
		if code != http.StatusOK {
			t.Fatalf("/key: %d %v", code, kr)
		}
		if got := numOf(t, kr["data"].(map[string]any)["usage"]); !got.Equal(used) {
			t.Errorf("request %d: /key usage %s, want %s", i, got, used)
		}
		code, gr := h.getJSON("/api/v1/generation?id="+id, h.key)
		if code != http.StatusOK {
			t.Fatalf("request %d: /generation: %d %v", i, code, gr)
		}
		if got := numOf(t, gr["data"].(map[string]any)["total_cost"]); !got.Equal(cost) {
			t.Errorf("request %d: /generation total_cost %s, want %s", i, got, cost)
		}
	}
}

// stuckProjections never reach a position: read models that stopped.
type stuckProjections struct{}

func (stuckProjections) WaitFor(ctx context.Context, _ eventstore.Position) error {
	<-ctx.Done()
	return ctx.Err()
}

// Read models that stopped do not stop a key's figures: the read waits its
// bound, answers with what the read models hold, and says so in the log.
func TestKeyFiguresAnswerWhenReadModelsStall(t *testing.T) {
	h := newHarness(t, harnessOpts{credit: "1000"})
	h.srv.deps.Projections = stuckProjections{}
	if resp, body := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
	code, cr := h.getJSON("/api/v1/credits", h.key)
	if code != http.StatusOK {
		t.Fatalf("/credits: %d %v", code, cr)
	}
	if _, ok := cr["data"].(map[string]any)["total_usage"]; !ok {
		t.Fatalf("/credits without its figures: %v", cr)
	}
	if !strings.Contains(h.logs.String(), "answering with figures behind the store") {
		t.Errorf("no warning in the log:\n%s", h.logs.String())
	}
}
