package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// The actor of an account's opening is the signed-in staff token: a body
// that names an actor is refused, and nothing is recorded.
func TestAPIOpenAccountRecordsTheSignedInStaff(t *testing.T) {
	e := newEnv(t, false)
	code, b := e.call("POST", "/admin/api/accounts", e.admin, map[string]any{"account_id": "acct_spoof", "organisation": "X", "plan": "starter",
		"actor": map[string]any{"kind": "system", "id": "spoofed"}})
	if code != http.StatusBadRequest || !strings.Contains(string(b), "actor") {
		t.Fatalf("a body naming an actor: %d %s", code, b)
	}
	if e.streamExists(domain.AccountStream("acct_spoof")) {
		t.Fatal("a refused opening wrote events")
	}
	if code, b := e.call("POST", "/admin/api/accounts", e.admin, map[string]any{"account_id": "acct_real", "organisation": "X", "plan": "starter"}); code != http.StatusCreated {
		t.Fatalf("open: %d %s", code, b)
	}
	_, b = e.call("GET", "/admin/api/whoami", e.admin, nil)
	var who struct {
		TokenID string `json:"token_id"`
	}
	if err := json.Unmarshal(b, &who); err != nil || who.TokenID == "" {
		t.Fatalf("whoami: %s", b)
	}
	code, b = e.call("GET", "/admin/api/audit/events?stream="+domain.AccountStream("acct_real"), e.auditor, nil)
	var log struct {
		Data []struct {
			Type  string        `json:"type"`
			Actor *domain.Actor `json:"actor"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &log); code != http.StatusOK || err != nil || len(log.Data) != 1 || log.Data[0].Type != domain.TypeAccountOpened {
		t.Fatalf("audit events: %d %s", code, b)
	}
	if a := log.Data[0].Actor; a == nil || *a != (domain.Actor{Kind: domain.ActorStaff, ID: who.TokenID, Role: "admin"}) {
		t.Fatalf("account.opened records actor %+v, want the admin token %s", a, who.TokenID)
	}
}

// streamExists tells whether a stream holds any event.
func (e *env) streamExists(stream string) bool {
	e.t.Helper()
	evs, err := e.store.ReadStream(e.ctx, stream, 0, 1)
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		e.t.Fatal(err)
	}
	return len(evs) > 0
}

// Account IDs outside the safe pattern are refused before anything is
// recorded.
func TestAPIOpenAccountRefusesUnsafeIDs(t *testing.T) {
	e := newEnv(t, false)
	for _, id := range []string{"a/b", "../x", " acct_sp"} {
		code, b := e.call("POST", "/admin/api/accounts", e.admin, map[string]any{"account_id": id, "organisation": "X"})
		if code != http.StatusBadRequest || !strings.Contains(string(b), "account ID") {
			t.Errorf("account_id %q: %d %s", id, code, b)
		}
		if e.streamExists(domain.AccountStream(id)) {
			t.Errorf("account_id %q: events written", id)
		}
	}
}
