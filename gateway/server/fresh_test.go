package server

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// stuckProjections are read models that stopped at slowest: a wait for a
// position beyond it lasts until its context ends. It counts the waits.
type stuckProjections struct {
	slowest atomic.Uint64 // a global position's commit
	waits   atomic.Int64
}

func (p *stuckProjections) WaitFor(ctx context.Context, pos eventstore.Position) error {
	p.waits.Add(1)
	if !p.Slowest().Less(pos) {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (p *stuckProjections) Slowest() eventstore.Position {
	return eventstore.Position{Commit: p.slowest.Load(), Prepare: p.slowest.Load()}
}

// Read models that stopped do not stop a key's figures: the read waits its
// bound, answers with what the read models hold, and says so in the log.
// Later reads do not wait again until the read models move.
func TestKeyFiguresAnswerWhenReadModelsStall(t *testing.T) {
	h := newHarness(t, harnessOpts{credit: "1000"})
	p := &stuckProjections{}
	h.srv.deps.Projections = p
	if resp, body := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
	credits := func() {
		t.Helper()
		code, cr := h.getJSON("/api/v1/credits", h.key)
		if code != http.StatusOK {
			t.Fatalf("/credits: %d %v", code, cr)
		}
		if _, ok := cr["data"].(map[string]any)["total_usage"]; !ok {
			t.Fatalf("/credits without its figures: %v", cr)
		}
	}
	credits()
	if !strings.Contains(h.logs.String(), "answering with figures behind the store") {
		t.Errorf("no warning in the log:\n%s", h.logs.String())
	}
	if n := p.waits.Load(); n != 1 {
		t.Fatalf("waits after the first read: %d, want 1", n)
	}
	// Stalled where they were: the next reads answer without waiting.
	credits()
	if code, kr := h.getJSON("/api/v1/key", h.key); code != http.StatusOK {
		t.Fatalf("/key: %d %v", code, kr)
	}
	if n := p.waits.Load(); n != 1 {
		t.Errorf("reads waited again for read models that have not moved: %d waits", n)
	}
	// Once they move, reads wait for them again (and they are caught up).
	p.slowest.Store(1 << 62)
	credits()
	if n := p.waits.Load(); n != 2 {
		t.Errorf("waits after the read models moved: %d, want 2", n)
	}
	if !strings.Contains(h.logs.String(), "read models moving again") {
		t.Errorf("no note of the recovery in the log:\n%s", h.logs.String())
	}
}
