package server

// Field-by-field checks of the OpenRouter-shaped informational endpoints:
// every field OpenRouter documents is present with OpenRouter's JSON type
// (strings where it has strings, numbers where it has numbers, null where
// it allows null).

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// JSON kinds a field may have; "null|number" allows either.
const (
	tString = "string"
	tNumber = "number"
	tBool   = "bool"
	tObject = "object"
	tArray  = "array"
	tNull   = "null"
)

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return tString
	case json.Number:
		return tNumber
	case bool:
		return tBool
	case map[string]any:
		return tObject
	case []any:
		return tArray
	case nil:
		return tNull
	}
	return "?"
}

// checkShape fails for every field of want missing from obj or of another
// type; want maps field → "kind" or "kind|kind".
func checkShape(t *testing.T, where string, obj map[string]any, want map[string]string) {
	t.Helper()
	for field, kinds := range want {
		v, ok := obj[field]
		if !ok {
			t.Errorf("%s: field %q missing", where, field)
			continue
		}
		if k := kindOf(v); !strings.Contains("|"+kinds+"|", "|"+k+"|") {
			t.Errorf("%s.%s = %v: a %s, want %s", where, field, v, k, kinds)
		}
	}
}

// getJSON GETs path with key and decodes numbers as json.Number.
func (h *harness) getJSON(path, key string) (int, map[string]any) {
	h.t.Helper()
	code, b := h.rawGet(path, key)
	d := json.NewDecoder(strings.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		h.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	return code, m
}

func numOf(t *testing.T, v any) decimal.Decimal {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%v is not a number or decimal string", v)
		}
		return decimal.RequireFromString(s)
	}
	return decimal.RequireFromString(n.String())
}

var modelShape = map[string]string{
	"id": tString, "canonical_slug": tString, "name": tString, "created": tNumber, "description": tString,
	"context_length": tNumber, "architecture": tObject, "pricing": tObject, "top_provider": tObject,
	"per_request_limits": tNull + "|" + tObject, "supported_parameters": tArray,
	"default_parameters": tNull + "|" + tObject, "links": tObject,
}

var pricingShape = map[string]string{
	"prompt": tString, "completion": tString, "request": tString, "image": tString, "web_search": tString,
	"internal_reasoning": tString, "input_cache_read": tString, "input_cache_write": tString, "currency": tString,
}

func checkModel(t *testing.T, where string, m map[string]any, price domain.ModelPrice) {
	t.Helper()
	checkShape(t, where, m, modelShape)
	arch, _ := m["architecture"].(map[string]any)
	checkShape(t, where+".architecture", arch, map[string]string{"modality": tString, "input_modalities": tArray,
		"output_modalities": tArray, "tokenizer": tString, "instruct_type": tNull + "|" + tString})
	if arch["modality"] != "text+image+file->text" {
		t.Errorf("%s.architecture.modality = %v", where, arch["modality"])
	}
	top, _ := m["top_provider"].(map[string]any)
	checkShape(t, where+".top_provider", top, map[string]string{"context_length": tNumber,
		"max_completion_tokens": tNumber, "is_moderated": tBool})
	p, _ := m["pricing"].(map[string]any)
	checkShape(t, where+".pricing", p, pricingShape)
	// Per token: the per-million price shifted by six places, exactly.
	for field, want := range map[string]decimal.Decimal{"prompt": price.Input, "completion": price.Output,
		"input_cache_read": price.CachedInput, "internal_reasoning": price.Output, "request": decimal.Zero} {
		if s, ok := p[field].(string); ok && !decimal.RequireFromString(s).Equal(want.Shift(-6)) {
			t.Errorf("%s.pricing.%s = %s, want %s per token", where, field, s, want.Shift(-6))
		}
	}
	if p["currency"] != "TWD" {
		t.Errorf("%s.pricing.currency = %v, want TWD", where, p["currency"])
	}
	if m["canonical_slug"] != m["id"] {
		t.Errorf("%s: canonical_slug %v, id %v", where, m["canonical_slug"], m["id"])
	}
	links, _ := m["links"].(map[string]any)
	if links["details"] != "/api/v1/models/"+m["id"].(string)+"/endpoints" {
		t.Errorf("%s.links = %v", where, links)
	}
}

func TestOpenRouterModelShapes(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/openai": {{fake: "openai", kind: "openai"}, {fake: "backup", kind: "openai"}},
		"test/other":  {{fake: "openai", kind: "openai"}},
	}})
	price := defaultPrice()

	code, list := h.getJSON("/api/v1/models", "")
	if code != http.StatusOK {
		t.Fatalf("/models: %d %v", code, list)
	}
	checkShape(t, "list", list, map[string]string{"data": tArray, "total_count": tNumber, "links": tObject})
	data, _ := list["data"].([]any)
	if len(data) != 2 || list["total_count"] != json.Number("2") {
		t.Fatalf("list: %d models, total_count %v", len(data), list["total_count"])
	}
	for _, e := range data {
		m := e.(map[string]any)
		checkModel(t, m["id"].(string), m, price)
	}

	if code, cnt := h.getJSON("/api/v1/models/count", ""); code != http.StatusOK || cnt["data"].(map[string]any)["count"] != json.Number("2") {
		t.Errorf("/models/count: %d %v", code, cnt)
	}
	code, provs := h.getJSON("/api/v1/providers", "")
	if code != http.StatusOK {
		t.Fatalf("/providers: %d %v", code, provs)
	}
	pl, _ := provs["data"].([]any)
	if len(pl) != 2 {
		t.Fatalf("/providers: %v, want backup and openai", provs)
	}
	for i, e := range pl {
		p := e.(map[string]any)
		checkShape(t, "provider", p, map[string]string{"name": tString, "slug": tString,
			"privacy_policy_url": tNull + "|" + tString, "datacenters": tNull + "|" + tArray})
		if want := []string{"backup", "openai"}[i]; p["slug"] != want {
			t.Errorf("provider %d: %v, want %s", i, p["slug"], want)
		}
	}

	for _, path := range []string{"/api/v1/models/test/openai", "/api/v1/model/test/openai"} {
		code, one := h.getJSON(path, "")
		if code != http.StatusOK {
			t.Fatalf("%s: %d %v", path, code, one)
		}
		m, _ := one["data"].(map[string]any)
		checkModel(t, path, m, price)
		if m["id"] != "test/openai" {
			t.Errorf("%s: id %v", path, m["id"])
		}
	}
	if code, body := h.getJSON("/api/v1/model/test/nope", ""); code != http.StatusNotFound {
		t.Errorf("unknown model: %d %v", code, body)
	}

	code, eps := h.getJSON("/api/v1/models/test/openai/endpoints", "")
	if code != http.StatusOK {
		t.Fatalf("/endpoints: %d %v", code, eps)
	}
	d, _ := eps["data"].(map[string]any)
	checkShape(t, "endpoints", d, map[string]string{"id": tString, "name": tString, "created": tNumber,
		"description": tString, "architecture": tObject, "endpoints": tArray})
	list2, _ := d["endpoints"].([]any)
	if len(list2) != 2 {
		t.Fatalf("endpoints: %d, want the 2 upstreams", len(list2))
	}
	for i, e := range list2 {
		ep := e.(map[string]any)
		checkShape(t, "endpoint", ep, map[string]string{"name": tString, "context_length": tNumber, "pricing": tObject,
			"provider_name": tString, "tag": tString, "quantization": tNull + "|" + tString,
			"max_completion_tokens": tNull + "|" + tNumber, "max_prompt_tokens": tNull + "|" + tNumber,
			"supported_parameters": tArray, "status": tNumber, "uptime_last_30m": tNull + "|" + tNumber,
			"supports_tool_choice": tObject, "supports_implicit_caching": tBool,
			"region": tNull + "|" + tString, "model_id": tString, "model_name": tString})
		pr, _ := ep["pricing"].(map[string]any)
		checkShape(t, "endpoint.pricing", pr, pricingShape)
		if want := []string{"openai", "backup"}[i]; ep["provider_name"] != want || ep["status"] != json.Number("0") {
			t.Errorf("endpoint %d: provider %v status %v, want %s serving", i, ep["provider_name"], ep["status"], want)
		}
	}
	// An upstream whose breaker opened is shown down.
	h.fakes["openai"].SetScript(providertest.Script{Status: http.StatusInternalServerError})
	for range 3 {
		h.post(`{"model":"test/other","messages":[{"role":"user","content":"hi"}]}`)
	}
	_, eps = h.getJSON("/api/v1/models/test/openai/endpoints", "")
	first := eps["data"].(map[string]any)["endpoints"].([]any)[0].(map[string]any)
	if first["status"] != json.Number("-10") || first["breaker"] != "open" {
		t.Errorf("after 3 failures: status %v breaker %v, want -10 open", first["status"], first["breaker"])
	}
}

func TestOpenRouterAccountShapes(t *testing.T) {
	h := newHarness(t, harnessOpts{credit: "1000"})
	resp, body := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Request-Id")
	h.catchUp()
	cost := h.completed()[0].Cost
	if !cost.IsPositive() {
		t.Fatalf("cost %s", cost)
	}

	// /credits: what was credited and what was used; the difference is the balance.
	code, cr := h.getJSON("/api/v1/credits", h.key)
	if code != http.StatusOK {
		t.Fatalf("/credits: %d %v", code, cr)
	}
	c, _ := cr["data"].(map[string]any)
	checkShape(t, "credits", c, map[string]string{"total_credits": tNumber, "total_usage": tNumber})
	if !numOf(t, c["total_credits"]).Equal(decimal.NewFromInt(1000)) || !numOf(t, c["total_usage"]).Equal(cost) {
		t.Errorf("credits %v / usage %v, want 1000 / %s", c["total_credits"], c["total_usage"], cost)
	}

	// /key without a spend limit: limit and limit_remaining are null.
	code, kr := h.getJSON("/api/v1/key", h.key)
	if code != http.StatusOK {
		t.Fatalf("/key: %d %v", code, kr)
	}
	k, _ := kr["data"].(map[string]any)
	keyShape := map[string]string{"label": tString, "usage": tNumber, "usage_daily": tNumber, "usage_weekly": tNumber,
		"usage_monthly": tNumber, "limit": tNull + "|" + tNumber, "limit_remaining": tNull + "|" + tNumber,
		"limit_reset": tNull + "|" + tString, "is_free_tier": tBool, "is_management_key": tBool,
		"is_provisioning_key": tBool, "include_byok_in_limit": tBool, "byok_usage": tNumber, "rate_limit": tObject,
		"allowed_data_regions": tArray}
	checkShape(t, "key", k, keyShape)
	checkShape(t, "key.rate_limit", k["rate_limit"].(map[string]any), map[string]string{"requests": tNumber, "interval": tString})
	if k["limit"] != nil || k["limit_remaining"] != nil || k["label"] != "test" {
		t.Errorf("key: limit %v remaining %v label %v", k["limit"], k["limit_remaining"], k["label"])
	}
	for _, f := range []string{"usage", "usage_daily", "usage_weekly", "usage_monthly"} {
		if !numOf(t, k[f]).Equal(cost) {
			t.Errorf("key.%s = %v, want %s", f, k[f], cost)
		}
	}
	if !numOf(t, k["balance"]).Equal(decimal.NewFromInt(1000).Sub(cost)) { // RouteFree's own field stays
		t.Errorf("key.balance = %v", k["balance"])
	}

	// A key with a spend limit: limit and limit_remaining are numbers.
	_, capped, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Name: "capped",
		SpendLimit: decimal.NewFromInt(50), SpendPeriod: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	_, kr = h.getJSON("/api/v1/key", capped)
	k = kr["data"].(map[string]any)
	checkShape(t, "capped key", k, keyShape)
	if !numOf(t, k["limit"]).Equal(decimal.NewFromInt(50)) || !numOf(t, k["limit_remaining"]).Equal(decimal.NewFromInt(50)) ||
		k["limit_reset"] != "daily" || k["usage"] != json.Number("0") {
		t.Errorf("capped key: limit %v remaining %v reset %v usage %v", k["limit"], k["limit_remaining"], k["limit_reset"], k["usage"])
	}

	// /generation in OpenRouter's shape.
	code, gr := h.getJSON("/api/v1/generation?id="+id, h.key)
	if code != http.StatusOK {
		t.Fatalf("/generation: %d %v", code, gr)
	}
	g, _ := gr["data"].(map[string]any)
	nullable := func(k string) string { return tNull + "|" + k }
	checkShape(t, "generation", g, map[string]string{
		"id": tString, "total_cost": tNumber, "created_at": tString, "model": tString, "origin": tString,
		"usage": tNumber, "is_byok": tBool, "upstream_id": nullable(tString), "cache_discount": nullable(tNumber),
		"upstream_inference_cost": nullable(tNumber), "app_id": nullable(tNumber), "streamed": nullable(tBool),
		"cancelled": nullable(tBool), "provider_name": nullable(tString), "latency": nullable(tNumber),
		"moderation_latency": nullable(tNumber), "generation_time": nullable(tNumber),
		"finish_reason": nullable(tString), "native_finish_reason": nullable(tString),
		"tokens_prompt": nullable(tNumber), "tokens_completion": nullable(tNumber),
		"native_tokens_prompt": nullable(tNumber), "native_tokens_completion": nullable(tNumber),
		"native_tokens_reasoning": nullable(tNumber), "native_tokens_cached": nullable(tNumber),
		"num_media_prompt": nullable(tNumber), "num_media_completion": nullable(tNumber),
		"num_search_results": nullable(tNumber), "api_type": nullable(tString), "data_region": tString,
		"external_user": nullable(tString), "http_referer": nullable(tString), "router": nullable(tString),
	})
	if g["id"] != id || g["model"] != "test/openai" || !numOf(t, g["total_cost"]).Equal(cost) ||
		g["tokens_prompt"] != json.Number("10") || g["provider_name"] != "openai" || g["streamed"] != false {
		t.Errorf("generation: %v", g)
	}
	// Another account's key sees no such generation.
	other, err := h.cmds.OpenAccount(context.Background(), domain.AccountOpened{Organisation: "別家", Plan: domain.PlanStarter})
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: other, Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	if code, body := h.getJSON("/api/v1/generation?id="+id, otherKey); code != http.StatusNotFound {
		t.Errorf("another account's generation: %d %v", code, body)
	}
	if code, _ := h.getJSON("/api/v1/credits", ""); code != http.StatusUnauthorized {
		t.Errorf("/credits without a key: %d", code)
	}
	// A key's own figures stay out of shared caches.
	req, _ := http.NewRequest(http.MethodGet, h.http.URL+"/api/v1/credits", nil)
	req.Header.Set("Authorization", "Bearer "+h.key)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("/credits Cache-Control: %v %v", resp.Header.Get("Cache-Control"), err)
	} else {
		resp.Body.Close()
	}
	// A management key says so, as OpenRouter's provisioning keys do.
	_, mgmt, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	_, kr = h.getJSON("/api/v1/key", mgmt)
	if k := kr["data"].(map[string]any); k["is_management_key"] != true || k["is_provisioning_key"] != true {
		t.Errorf("management key: %v / %v", k["is_management_key"], k["is_provisioning_key"])
	}
}

// OpenRouter's key endpoint was first GET /api/v1/auth/key, and apps still
// check a key and read its limit and usage there (a settings page's "test
// key" button, a credit poller). RouteFree answered 404, which such an app
// takes for a bad key. It is /key's answer, under the same rules.
func TestAuthKeyIsKey(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	code, old := h.getJSON("/api/v1/auth/key", h.key)
	if code != http.StatusOK {
		t.Fatalf("GET /auth/key: %d %v", code, old)
	}
	_, cur := h.getJSON("/api/v1/key", h.key)
	if !reflect.DeepEqual(old, cur) {
		t.Errorf("/auth/key %v\n/key      %v", old, cur)
	}
	if code, body := h.getJSON("/api/v1/auth/key", ""); code != http.StatusUnauthorized {
		t.Errorf("without a key: %d %v", code, body)
	}
	req, _ := http.NewRequest(http.MethodGet, h.http.URL+"/api/v1/auth/key", nil)
	req.Header.Set("Authorization", "Bearer "+h.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q, want no-store as /key", cc)
	}
}
