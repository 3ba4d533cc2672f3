package main

import (
	"encoding/json"
	"net/http"
	"testing"
)

// A key without a spending limit reads as OpenRouter's does: limit,
// limit_remaining and limit_reset null, in the key API and in GET
// /api/v1/key alike, and RouteFree's own limit_period and
// spend_limit_period null too, not the period a limit would have. A client
// that sends such a key's fields back (limit_reset null with no limit) is
// not refused, and one that gives it a limit later without a period gets
// a limit that never resets, as the key's limit_reset null says and as
// OpenRouter's does, whatever period the key was created with while it had
// no limit.
func TestAKeyWithoutALimitHasNoLimitPeriod(t *testing.T) {
	s := startSelfServe(t)
	nullFields := []string{"limit", "limit_remaining", "limit_reset", "limit_period"}
	checkNull := func(what string, data map[string]json.RawMessage, fields ...string) {
		t.Helper()
		for _, f := range fields {
			if v, ok := data[f]; !ok || string(v) != "null" {
				t.Errorf("%s: %s is %s, want null", what, f, v)
			}
		}
	}
	type keyAnswer struct {
		Data map[string]json.RawMessage `json:"data"`
		Key  string                     `json:"key"`
	}
	create := func(body map[string]any) keyAnswer {
		t.Helper()
		var a keyAnswer
		if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, body, &a); code != http.StatusCreated {
			t.Fatalf("POST %v: %d %v", body, code, a.Data)
		}
		return a
	}
	hash := func(a keyAnswer) string {
		var h string
		_ = json.Unmarshal(a.Data["hash"], &h)
		return h
	}

	plain := create(map[string]any{"name": "plain"})
	checkNull("created without a limit", plain.Data, nullFields...)
	// The fields as the key shows them, sent back: no limit, no reset.
	echoed := create(map[string]any{"name": "echoed", "limit": nil, "limit_reset": nil})
	checkNull("created with limit and limit_reset null", echoed.Data, nullFields...)
	weekly := create(map[string]any{"name": "weekly", "limit_reset": "weekly"})
	checkNull("created with a period and no limit", weekly.Data, nullFields...)

	var list struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	if code := s.do(http.MethodGet, "/api/v1/keys", s.owner, nil, &list); code != http.StatusOK || len(list.Data) < 4 {
		t.Fatalf("GET /api/v1/keys: %d, %d keys", code, len(list.Data))
	}
	for _, k := range list.Data { // the owner's key, the demo key and the three above: none has a limit
		checkNull("listed key "+string(k["name"]), k, nullFields...)
	}
	var one keyAnswer
	if code := s.do(http.MethodGet, "/api/v1/keys/"+hash(plain), s.owner, nil, &one); code != http.StatusOK {
		t.Fatalf("GET /api/v1/keys/{hash}: %d", code)
	}
	checkNull("GET /api/v1/keys/{hash}", one.Data, nullFields...)
	var self keyAnswer
	if code := s.do(http.MethodGet, "/api/v1/key", plain.Key, nil, &self); code != http.StatusOK {
		t.Fatalf("GET /api/v1/key: %d", code)
	}
	checkNull("GET /api/v1/key", self.Data, "limit", "limit_remaining", "limit_reset", "spend_limit", "spend_limit_period")

	// The same fields sent back by PATCH change nothing and are not refused.
	var patched keyAnswer
	if code := s.do(http.MethodPatch, "/api/v1/keys/"+hash(plain), s.owner, map[string]any{"limit": nil, "limit_reset": nil}, &patched); code != http.StatusOK {
		t.Fatalf("PATCH limit and limit_reset null on a key without a limit: %d %v", code, patched.Data)
	}
	checkNull("PATCHed with nulls", patched.Data, nullFields...)

	// A limit given later without a period never resets: limit_reset stays
	// null, limit_period says never.
	for _, a := range []keyAnswer{plain, weekly} {
		var limited keyAnswer
		if code := s.do(http.MethodPatch, "/api/v1/keys/"+hash(a), s.owner, map[string]any{"limit": 30}, &limited); code != http.StatusOK {
			t.Fatalf("PATCH limit 30: %d %v", code, limited.Data)
		}
		for f, want := range map[string]string{"limit_reset": "null", "limit_period": `"never"`} {
			if got := string(limited.Data[f]); got != want {
				t.Errorf("%s given a limit without a period: %s is %s, want %s", a.Data["name"], f, got, want)
			}
		}
		if got := string(limited.Data["limit"]); got != "30" {
			t.Errorf("limit is %s, want 30", got)
		}
	}
	// A limit with a reset of null never resets, on PATCH and on POST.
	var monthly, never, created keyAnswer
	if code := s.do(http.MethodPatch, "/api/v1/keys/"+hash(plain), s.owner, map[string]any{"limit_reset": "monthly"}, &monthly); code != http.StatusOK ||
		string(monthly.Data["limit_reset"]) != `"monthly"` {
		t.Errorf("PATCH limit_reset monthly on a key with a limit: %d %s", code, monthly.Data["limit_reset"])
	}
	if code := s.do(http.MethodPatch, "/api/v1/keys/"+hash(plain), s.owner, map[string]any{"limit_reset": nil}, &never); code != http.StatusOK ||
		string(never.Data["limit_reset"]) != "null" || string(never.Data["limit_period"]) != `"never"` || string(never.Data["limit"]) != "30" {
		t.Errorf("PATCH limit_reset null on a key with a limit: %d %v, want a limit of 30 that never resets", code, never.Data)
	}
	if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, map[string]any{"name": "never", "limit": 5, "limit_reset": nil}, &created); code != http.StatusCreated ||
		string(created.Data["limit_reset"]) != "null" || string(created.Data["limit_period"]) != `"never"` {
		t.Errorf("POST a limit with limit_reset null: %d %v", code, created.Data)
	}
}
