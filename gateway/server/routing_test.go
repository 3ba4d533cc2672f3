package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// Three upstreams of one model, each a fake of its own: "us" trains and
// retains, "sg" retains only, "tw" (in Google Cloud's Taiwan region) keeps
// nothing and takes no tools.
func routingHarness(t *testing.T, scripts map[string]providertest.Script) *harness {
	t.Helper()
	all := []string{"max_tokens", "temperature", "tools", "tool_choice", "seed"}
	return newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{"test/routed": {
			{fake: "us", kind: "openai", region: "us", policy: &catalog.DataPolicy{Training: true, Retention: true}, params: all},
			{fake: "sg", kind: "openai", region: "asia-southeast1", policy: &catalog.DataPolicy{Retention: true}, params: all},
			{fake: "tw", kind: "openai", region: "asia-east1", policy: &catalog.DataPolicy{}, params: []string{"max_tokens", "temperature"}},
		}},
		scripts: scripts,
	})
}

// served sends a request and returns the provider that answered, from
// the fakes' logs, checking that exactly one fake was called.
func (h *harness) served(body string) string {
	h.t.Helper()
	before := map[string]int{}
	for name, f := range h.fakes {
		before[name] = len(f.Received())
	}
	resp, b := h.post(body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var got []string
	for name, f := range h.fakes {
		if len(f.Received()) > before[name] {
			got = append(got, name)
		}
	}
	if len(got) != 1 {
		h.t.Fatalf("upstreams called: %v", got)
	}
	return got[0]
}

func (h *harness) noneCalled() {
	h.t.Helper()
	for name, f := range h.fakes {
		if n := len(f.Received()); n != 0 {
			h.t.Fatalf("upstream %s was called %d times", name, n)
		}
	}
}

func routed(provider string) string {
	return `{"model":"test/routed","messages":[{"role":"user","content":"hi"}],"provider":` + provider + `}`
}

func TestProviderOrderOnlyIgnore(t *testing.T) {
	h := routingHarness(t, nil)
	if got := h.served(routed(`{}`)); got != "us" {
		t.Fatalf("no preference: served by %s, want the catalog's first, us", got)
	}
	if got := h.served(routed(`{"order":["tw","sg"]}`)); got != "tw" {
		t.Fatalf("order: served by %s, want tw", got)
	}
	if got := h.served(routed(`{"only":["sg","tw"]}`)); got != "sg" {
		t.Fatalf("only: served by %s, want sg (first of the allowed in catalog order)", got)
	}
	if got := h.served(routed(`{"ignore":["US","sg"]}`)); got != "tw" {
		t.Fatalf("ignore: served by %s, want tw", got)
	}
	c := h.completed()
	if len(c) != 4 || c[3].Provider != "tw" || c[3].Region != "asia-east1" || c[0].Region != "us" {
		t.Fatalf("recorded provider and region: %+v", c)
	}

	resp, b := h.post(routed(`{"only":["nobody"]}`))
	e := decodeError(t, b)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "provider.only") {
		t.Fatalf("only with no match: %d %s", resp.StatusCode, b)
	}
	resp, b = h.post(routed(`{"sort":"cheapest"}`))
	if resp.StatusCode != http.StatusBadRequest || decodeError(t, b).Error.Metadata["param"] != "provider.sort" {
		t.Fatalf("bad sort: %d %s", resp.StatusCode, b)
	}
	resp, b = h.post(routed(`"tw"`))
	if resp.StatusCode != http.StatusBadRequest || decodeError(t, b).Error.Message != "provider must be an object" {
		t.Fatalf("provider as a string: %d %s", resp.StatusCode, b)
	}
	resp, b = h.post(routed(`{"only":"tw"}`))
	if resp.StatusCode != http.StatusBadRequest || decodeError(t, b).Error.Metadata["param"] != "provider.only" {
		t.Fatalf("only as a string: %d %s", resp.StatusCode, b)
	}
}

func TestProviderAllowFallbacksFalse(t *testing.T) {
	h := routingHarness(t, map[string]providertest.Script{"tw": {Status: 503}})
	calls := func() (us, sg, tw int) {
		return len(h.fakes["us"].Received()), len(h.fakes["sg"].Received()), len(h.fakes["tw"].Received())
	}
	// With fallbacks, tw's 503 fails over to the next in order.
	if resp, b := h.post(routed(`{"order":["tw","sg"]}`)); resp.StatusCode != http.StatusOK {
		t.Fatalf("with fallbacks: %d %s", resp.StatusCode, b)
	}
	// Without, as OpenRouter has it, only the providers of order serve, in
	// its order: tw's 503 fails over to sg, never to us, which the order
	// leaves out.
	resp, b := h.post(routed(`{"order":["tw","sg"],"allow_fallbacks":false}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("allow_fallbacks false, order tw, sg: %d %s", resp.StatusCode, b)
	}
	if us, sg, tw := calls(); us != 0 || sg != 2 || tw != 2 {
		t.Fatalf("calls us %d, sg %d, tw %d; want 0, 2, 2", us, sg, tw)
	}
	// With one provider in order, that one alone.
	resp, b = h.post(routed(`{"order":["tw"],"allow_fallbacks":false}`))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("allow_fallbacks false, order tw: %d %s", resp.StatusCode, b)
	}
	if us, sg, tw := calls(); us != 0 || sg != 2 || tw != 3 {
		t.Fatalf("calls us %d, sg %d, tw %d; want 0, 2, 3", us, sg, tw)
	}
	// Without order, the first eligible upstream alone.
	h2 := routingHarness(t, map[string]providertest.Script{"us": {Status: 503}})
	resp, b = h2.post(routed(`{"allow_fallbacks":false}`))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("allow_fallbacks false without order: %d %s", resp.StatusCode, b)
	}
	if n := len(h2.fakes["sg"].Received()) + len(h2.fakes["tw"].Received()); n != 0 {
		t.Fatalf("allow_fallbacks false without order: %d calls after the first upstream", n)
	}
	// An order naming none of the model's providers leaves none to serve:
	// refused before any call, rather than served by a provider not named.
	us0, sg0, tw0 := calls()
	resp, b = h.post(routed(`{"order":["nobody"],"allow_fallbacks":false}`))
	e := decodeError(t, b)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "provider.order") {
		t.Fatalf("allow_fallbacks false, order nobody: %d %s", resp.StatusCode, b)
	}
	if us, sg, tw := calls(); us != us0 || sg != sg0 || tw != tw0 {
		t.Fatalf("an upstream was called")
	}
}

func TestProviderSort(t *testing.T) {
	h := routingHarness(t, nil)
	// Price: the upstreams share the model's price, so the catalog order stands.
	if got := h.served(routed(`{"sort":"price"}`)); got != "us" {
		t.Fatalf("sort price: served by %s, want us", got)
	}
	// Latency and throughput: the smoothed time to first byte, observed
	// ones first. Set it outright so that the test reads no clock.
	h.observe(map[string]time.Duration{"us": 900 * time.Millisecond, "sg": 100 * time.Millisecond})
	if got := h.served(routed(`{"sort":"latency"}`)); got != "sg" {
		t.Fatalf("sort latency: served by %s, want sg", got)
	}
	// The answer above was observed too; sg stays ahead of us by far.
	if got := h.served(routed(`{"sort":{"by":"throughput"}}`)); got != "sg" {
		t.Fatalf("sort throughput: served by %s, want sg", got)
	}
	// order still comes first.
	if got := h.served(routed(`{"sort":"latency","order":["tw"]}`)); got != "tw" {
		t.Fatalf("order with sort: served by %s, want tw", got)
	}
}

func TestProviderRequireParameters(t *testing.T) {
	h := routingHarness(t, nil)
	tools := `"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`
	// Without require_parameters, tw (no tools) is not ruled out.
	if got := h.served(strings.Replace(routed(`{"order":["tw"]}`), `"provider"`, tools+`,"provider"`, 1)); got != "tw" {
		t.Fatalf("without require_parameters: served by %s, want tw", got)
	}
	if got := h.served(strings.Replace(routed(`{"order":["tw"],"require_parameters":true}`), `"provider"`, tools+`,"provider"`, 1)); got != "us" {
		t.Fatalf("require_parameters: served by %s, want us (tw takes no tools)", got)
	}
	resp, b := h.post(strings.Replace(routed(`{"only":["tw"],"require_parameters":true}`), `"provider"`, tools+`,"provider"`, 1))
	e := decodeError(t, b)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "require_parameters") {
		t.Fatalf("no upstream takes tools: %d %s", resp.StatusCode, b)
	}
	if ps, _ := e.Error.Metadata["parameters"].([]any); len(ps) != 1 || ps[0] != "tools" {
		t.Fatalf("parameters named: %v", e.Error.Metadata)
	}
	if n := len(h.fakes["tw"].Received()); n != 1 {
		t.Fatalf("tw called %d times, want 1", n)
	}
}

// A response_format of type json_schema asks for structured outputs, not
// JSON mode alone: with require_parameters it went to an upstream that
// takes response_format but not a schema (an OpenAI-format host with JSON
// mode only), as OpenRouter's structured_outputs parameter exists to tell
// apart. It needs structured_outputs of the upstream too; json_object
// needs response_format alone.
func TestRequireParametersWithASchemaNeedsStructuredOutputs(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/schema": {
		{fake: "jsonmode", kind: "openai", params: []string{"max_tokens", "response_format"}},
		{fake: "schemas", kind: "openai", params: []string{"max_tokens", "response_format", "structured_outputs"}},
	}}})
	req := func(format, provider string) string {
		return `{"model":"test/schema","messages":[{"role":"user","content":"hi"}],"response_format":` + format + `,"provider":` + provider + `}`
	}
	schema := `{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}`
	if got := h.served(req(schema, `{"require_parameters":true}`)); got != "schemas" {
		t.Fatalf("json_schema with require_parameters: served by %s, want schemas (jsonmode takes no structured outputs)", got)
	}
	if got := h.served(req(`{"type":"json_object"}`, `{"require_parameters":true}`)); got != "jsonmode" {
		t.Fatalf("json_object with require_parameters: served by %s, want jsonmode", got)
	}
	if got := h.served(req(schema, `{}`)); got != "jsonmode" {
		t.Fatalf("json_schema without require_parameters: served by %s, want the first, jsonmode", got)
	}
	before := len(h.fakes["jsonmode"].Received())
	resp, b := h.post(req(schema, `{"only":["jsonmode"],"require_parameters":true}`))
	e := decodeError(t, b)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "require_parameters") {
		t.Fatalf("only jsonmode: %d %s", resp.StatusCode, b)
	}
	if ps, _ := e.Error.Metadata["parameters"].([]any); !slices.Contains(ps, any("structured_outputs")) || !slices.Contains(ps, any("response_format")) {
		t.Fatalf("parameters named: %v", e.Error.Metadata)
	}
	if n := len(h.fakes["jsonmode"].Received()); n != before {
		t.Fatalf("jsonmode was called")
	}
	// A client naming structured_outputs itself, as OpenRouter's own
	// parameter, needs it once.
	resp, b = h.post(strings.Replace(req(schema, `{"only":["jsonmode"],"require_parameters":true}`), `"provider"`, `"structured_outputs":true,"provider"`, 1))
	if ps, _ := decodeError(t, b).Error.Metadata["parameters"].([]any); resp.StatusCode != http.StatusNotFound || len(ps) != 2 {
		t.Fatalf("structured_outputs sent: %d %s", resp.StatusCode, b)
	}
}

func TestProviderDataCollectionDeny(t *testing.T) {
	h := routingHarness(t, nil)
	if got := h.served(routed(`{"data_collection":"deny"}`)); got != "tw" {
		t.Fatalf("data_collection deny: served by %s, want tw (neither trains nor retains)", got)
	}
	if got := h.served(routed(`{"zdr":true,"order":["sg","tw"]}`)); got != "tw" {
		t.Fatalf("zdr: served by %s, want tw", got)
	}
	c := h.completed()
	want := domain.DataRequirement{NoRetention: true, NoTraining: true, Source: "request"}
	if len(c) != 2 || c[0].Requirement == nil || *c[0].Requirement != want {
		t.Fatalf("requirement recorded: %+v", c[0].Requirement)
	}
	resp, b := h.post(routed(`{"data_collection":"deny","ignore":["tw"]}`))
	e := decodeError(t, b)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "data_collection deny") {
		t.Fatalf("no upstream without data collection: %d %s", resp.StatusCode, b)
	}
}

func TestProviderMaxPrice(t *testing.T) {
	// The model costs NT$10 input and NT$20 output per million tokens.
	h := routingHarness(t, nil)
	if got := h.served(routed(`{"max_price":{"prompt":10,"completion":"20"}}`)); got != "us" {
		t.Fatalf("at the limit: served by %s", got)
	}
	resp, b := h.post(routed(`{"max_price":{"prompt":10,"completion":19.5}}`))
	e := decodeError(t, b)
	if resp.StatusCode != http.StatusBadRequest || e.Error.Metadata["param"] != "provider.max_price.completion" ||
		!strings.Contains(e.Error.Message, "NT$20") || e.Error.Metadata["currency"] != "TWD" {
		t.Fatalf("above max_price: %d %s", resp.StatusCode, b)
	}
	if n := len(h.fakes["us"].Received()); n != 1 {
		t.Fatalf("us called %d times, want 1", n)
	}
	// The refusal comes before any hold: nothing is held or recorded as spent.
	h.heldIsZero()
	f := h.waitFailed(1)
	if f[0].Reason != "max_price_exceeded" || f[0].Status != http.StatusBadRequest {
		t.Fatalf("failure recorded: %+v", f)
	}
}

// A fallback model above max_price is skipped; the first model serves.
func TestProviderMaxPriceDropsAFallback(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{
			"test/cheap": {{fake: "cheap", kind: "openai"}},
			"test/dear":  {{fake: "dear", kind: "openai"}},
		},
		prices: map[string]domain.ModelPrice{
			"test/cheap": defaultPrice(),
			"test/dear":  {Input: decimal.NewFromInt(100), Output: decimal.NewFromInt(200)},
		},
	})
	resp, b := h.post(`{"model":"test/dear","models":["test/cheap"],"messages":[{"role":"user","content":"hi"}],"provider":{"max_price":{"prompt":50}}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var out struct{ Model string }
	_ = json.Unmarshal(b, &out)
	if out.Model != "test/cheap" || len(h.fakes["dear"].Received()) != 0 {
		t.Fatalf("served by %s; dear called %d times", out.Model, len(h.fakes["dear"].Received()))
	}
}

// 資料常駐: a request that must stay in Taiwan is served by the Taiwan
// upstream, and refused, with no upstream called, when there is none.
func TestDataResidency(t *testing.T) {
	h := routingHarness(t, nil)
	if got := h.served(routed(`{"data_residency":"tw"}`)); got != "tw" {
		t.Fatalf("residency tw: served by %s", got)
	}
	c := h.completed()
	if len(c) != 1 || c[0].Region != "asia-east1" || c[0].Requirement == nil || c[0].Requirement.Residency != "tw" {
		t.Fatalf("recorded: region %q requirement %+v", c[0].Region, c[0].Requirement)
	}
	resp, b := h.post(routed(`{"data_residency":"eu"}`))
	if resp.StatusCode != http.StatusBadRequest || decodeError(t, b).Error.Metadata["param"] != "provider.data_residency" {
		t.Fatalf("unknown residency: %d %s", resp.StatusCode, b)
	}
}

func TestDataResidencyNoUpstreamRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/routed": {
		{fake: "us", kind: "openai", region: "us", policy: &catalog.DataPolicy{}},
		{fake: "jp", kind: "anthropic", region: "asia-northeast1", policy: &catalog.DataPolicy{}},
	}}})
	for _, stream := range []string{"false", "true"} {
		resp, b := h.post(`{"model":"test/routed","stream":` + stream + `,"messages":[{"role":"user","content":"hi"}],"provider":{"data_residency":"tw"}}`)
		e := decodeError(t, b)
		if resp.StatusCode != http.StatusNotFound || e.Error.Metadata["requirements"].([]any)[0] != "data_residency" ||
			!strings.Contains(e.Error.Message, "data residency in Taiwan") {
			t.Fatalf("stream %s: %d %s", stream, resp.StatusCode, b)
		}
	}
	h.noneCalled()
	h.heldIsZero()
	f := h.waitFailed(2)
	if f[0].Reason != "no_eligible_upstream" || f[0].Requirement == nil || f[0].Requirement.Residency != "tw" || f[0].Region != "" {
		t.Fatalf("failure recorded: %+v", f)
	}
}

// An account that must stay in Taiwan: every request goes to the Taiwan
// upstream whatever it asks, a request cannot lift the requirement, and
// a model with no Taiwan upstream is refused with no upstream called.
func TestAccountDataRequirement(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/routed": {
			{fake: "us", kind: "openai", region: "us", policy: &catalog.DataPolicy{}},
			{fake: "tw", kind: "openai", region: "tw", policy: &catalog.DataPolicy{}},
		},
		"test/abroad": {{fake: "jp", kind: "gemini", region: "asia-northeast1", policy: &catalog.DataPolicy{}}},
	}})
	if err := h.cmds.SetDataRequirement(context.Background(), domain.DataRequirementSet{AccountID: h.account, Residency: "tw"}); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	// GET /api/v1/key shows it as OpenRouter's allowed_data_regions.
	req, _ := http.NewRequest("GET", h.http.URL+"/api/v1/key", nil)
	req.Header.Set("Authorization", "Bearer "+h.key)
	kr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		Data struct {
			AllowedDataRegions []string                `json:"allowed_data_regions"`
			Requirement        *domain.DataRequirement `json:"data_requirement"`
		} `json:"data"`
	}
	err = json.NewDecoder(kr.Body).Decode(&key)
	kr.Body.Close()
	if err != nil || len(key.Data.AllowedDataRegions) != 1 || key.Data.AllowedDataRegions[0] != "tw" || key.Data.Requirement.Residency != "tw" {
		t.Fatalf("GET /key: %v %+v", err, key.Data)
	}
	if got := h.served(`{"model":"test/routed","messages":[{"role":"user","content":"hi"}]}`); got != "tw" {
		t.Fatalf("served by %s", got)
	}
	if got := h.served(routed(`{"order":["us"],"data_residency":"tw"}`)); got != "tw" {
		t.Fatalf("with order us: served by %s", got)
	}
	resp, b := h.post(routed(`{"only":["us"]}`))
	if e := decodeError(t, b); resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "provider.only") {
		t.Fatalf("only us: %d %s", resp.StatusCode, b)
	}
	resp, b = h.post(`{"model":"test/abroad","messages":[{"role":"user","content":"hi"}]}`)
	if e := decodeError(t, b); resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "data residency in Taiwan") {
		t.Fatalf("abroad: %d %s", resp.StatusCode, b)
	}
	if n := len(h.fakes["us"].Received()) + len(h.fakes["jp"].Received()); n != 0 {
		t.Fatalf("upstreams outside Taiwan called %d times", n)
	}
	c := h.completed()
	if len(c) != 2 || c[0].Requirement == nil || c[0].Requirement.Source != "account" || c[1].Requirement.Source != "request+account" || c[1].Region != "tw" {
		t.Fatalf("recorded: %+v %+v", c[0].Requirement, c[1].Requirement)
	}
	f := h.waitFailed(2)
	for _, e := range f {
		if e.Requirement == nil || e.Requirement.Residency != "tw" {
			t.Fatalf("failure recorded without the requirement: %+v", e)
		}
	}
}

// Embeddings are held to the same requirement: an account that must stay
// in Taiwan gets no embedding from an upstream abroad.
func TestEmbeddingsDataRequirement(t *testing.T) {
	h := embedHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"openai/text-embedding-3-small": {{fake: "openai", kind: "openai", region: "us", policy: &catalog.DataPolicy{Retention: true}}},
	}})
	resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hi","provider":{"zdr":true}}`)
	if e := decodeError(t, b); resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "no data retention") {
		t.Fatalf("zdr: %d %s", resp.StatusCode, b)
	}
	if err := h.cmds.SetDataRequirement(context.Background(), domain.DataRequirementSet{AccountID: h.account, Residency: "tw"}); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	resp, b = h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hi"}`)
	if e := decodeError(t, b); resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error.Message, "data residency in Taiwan") {
		t.Fatalf("residency: %d %s", resp.StatusCode, b)
	}
	h.noneCalled()
	h.heldIsZero()
}

// GET /api/v1/models/user lists the models the caller's key may use that
// have an upstream meeting the account's standing data requirement: with
// Taiwan residency required, a model served only from Japan drops out.
func TestModelsForTheUser(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/routed": {
			{fake: "us", kind: "openai", region: "us", policy: &catalog.DataPolicy{}},
			{fake: "tw", kind: "openai", region: "tw", policy: &catalog.DataPolicy{}},
		},
		"test/abroad": {{fake: "jp", kind: "gemini", region: "asia-northeast1", policy: &catalog.DataPolicy{}}},
	}})
	list := func() []string {
		t.Helper()
		req, _ := http.NewRequest("GET", h.http.URL+"/api/v1/models/user", nil)
		req.Header.Set("Authorization", "Bearer "+h.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Data []struct {
				ID      string `json:"id"`
				Pricing struct {
					Prompt string `json:"prompt"`
				} `json:"pricing"`
			} `json:"data"`
			TotalCount int `json:"total_count"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&r) != nil || r.TotalCount != len(r.Data) {
			t.Fatalf("models/user: %d %+v", resp.StatusCode, r)
		}
		var ids []string
		for _, m := range r.Data {
			if m.Pricing.Prompt == "" {
				t.Fatalf("%s has no OpenRouter pricing", m.ID)
			}
			ids = append(ids, m.ID)
		}
		return ids
	}
	if got := strings.Join(list(), ","); !strings.Contains(got, "test/routed") || !strings.Contains(got, "test/abroad") {
		t.Fatalf("without a requirement: %s", got)
	}
	if err := h.cmds.SetDataRequirement(context.Background(), domain.DataRequirementSet{AccountID: h.account, Residency: "tw"}); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	if got := strings.Join(list(), ","); !strings.Contains(got, "test/routed") || strings.Contains(got, "test/abroad") {
		t.Fatalf("with Taiwan residency: %s", got)
	}
	resp, err := http.Get(h.http.URL + "/api/v1/models/user")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a key: %d", resp.StatusCode)
	}
}

// GET /api/v1/endpoints/zdr lists the upstreams whose data policy keeps
// nothing after the request, and only those.
func TestZeroRetentionEndpoints(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/routed": {
			{fake: "keeps", kind: "openai", region: "us", policy: &catalog.DataPolicy{Retention: true}},
			{fake: "zdr", kind: "openai", region: "tw", policy: &catalog.DataPolicy{}},
		},
		"test/unknown": {{fake: "nopolicy", kind: "gemini", region: "asia-northeast1"}},
	}})
	resp, err := http.Get(h.http.URL + "/api/v1/endpoints/zdr")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data []struct {
			ModelID    string              `json:"model_id"`
			Region     *string             `json:"region"`
			DataPolicy *catalog.DataPolicy `json:"data_policy"`
			Pricing    struct {
				Prompt string `json:"prompt"`
			} `json:"pricing"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&r) != nil {
		t.Fatalf("endpoints/zdr: %d", resp.StatusCode)
	}
	if len(r.Data) != 1 || r.Data[0].ModelID != "test/routed" || r.Data[0].Region == nil || *r.Data[0].Region != "tw" ||
		r.Data[0].DataPolicy == nil || r.Data[0].DataPolicy.Retention || r.Data[0].Pricing.Prompt == "" {
		t.Fatalf("zero-retention endpoints: %+v", r.Data)
	}
}

// Apps written for OpenRouter name providers by OpenRouter's slugs and
// display names: "azure" / "Azure" for Azure OpenAI, "google-ai-studio" /
// "Google AI Studio" for the Gemini API. They must reach the catalog's
// azure-openai and google upstreams, above all in ignore, where a name not
// recognised would let the excluded provider serve and be billed.
func TestProviderOpenRouterSlugs(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/gpt":    {{fake: "azure-openai", kind: "openai"}, {fake: "openai", kind: "openai"}},
		"test/gemini": {{fake: "google", kind: "gemini"}, {fake: "vertex", kind: "gemini"}},
	}, plan: domain.PlanEnterprise})
	gpt := func(p string) string {
		return `{"model":"test/gpt","messages":[{"role":"user","content":"hi"}],"provider":` + p + `}`
	}
	gem := func(p string) string {
		return `{"model":"test/gemini","messages":[{"role":"user","content":"hi"}],"provider":` + p + `}`
	}
	for body, want := range map[string]string{
		gpt(`{"ignore":["azure"]}`):                                            "openai",
		gpt(`{"ignore":["Azure"]}`):                                            "openai",
		gpt(`{"order":["OpenAI","Azure"]}`):                                    "openai",
		gpt(`{"only":["azure"]}`):                                              "azure-openai",
		gem(`{"ignore":["google-ai-studio"]}`):                                 "vertex",
		gem(`{"ignore":["Google AI Studio"]}`):                                 "vertex",
		gem(`{"order":["vertex","google-ai-studio"],"allow_fallbacks":false}`): "vertex",
		gem(`{"only":["google-ai-studio"]}`):                                   "google",
	} {
		if got := h.served(body); got != want {
			t.Errorf("%s: served by %s, want %s", body, got, want)
		}
	}
	// The catalog's own names still match.
	if got := h.served(gpt(`{"ignore":["AZURE-OPENAI"]}`)); got != "openai" {
		t.Errorf("ignore azure-openai: served by %s", got)
	}
	// Ignoring both, by either name, leaves nothing: refused, nothing called.
	before := len(h.fakes["openai"].Received()) + len(h.fakes["azure-openai"].Received())
	resp, b := h.post(gpt(`{"ignore":["Azure","openai"]}`))
	if resp.StatusCode != http.StatusNotFound || decodeError(t, b).Error.Code != http.StatusNotFound {
		t.Fatalf("ignore both: %d %s", resp.StatusCode, b)
	}
	if after := len(h.fakes["openai"].Received()) + len(h.fakes["azure-openai"].Received()); after != before {
		t.Fatalf("an ignored upstream was called")
	}
}

// OpenRouter's model variants :nitro and :floor are shortcuts for
// provider.sort throughput and price: an app's "author/model:nitro" is the
// model, its upstreams sorted so. Variants RouteFree does not offer are
// refused, naming the variant.
func TestModelVariantsSortProviders(t *testing.T) {
	h := routingHarness(t, nil)
	h.observe(map[string]time.Duration{"us": 900 * time.Millisecond, "tw": 100 * time.Millisecond})
	nitro := `{"model":"test/routed:nitro","messages":[{"role":"user","content":"hi"}]}`
	if got := h.served(nitro); got != "tw" {
		t.Fatalf(":nitro: served by %s, want tw, the fastest", got)
	}
	resp, b := h.post(`{"model":"test/routed:nitro","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"model":"test/routed"`) {
		t.Fatalf(":nitro stream: %d %s", resp.StatusCode, b)
	}
	// In models too.
	if got := h.served(`{"models":["test/routed:nitro"],"messages":[{"role":"user","content":"hi"}]}`); got != "tw" {
		t.Fatalf("models with :nitro: served by %s, want tw", got)
	}
	if got := h.served(`{"model":"test/routed:floor","messages":[{"role":"user","content":"hi"}]}`); got != "us" {
		t.Fatalf(":floor: served by %s, want us (one price for every upstream: catalog order)", got)
	}
	// provider.sort, when sent, wins; order still comes first.
	if got := h.served(`{"model":"test/routed:nitro","provider":{"sort":"price"},"messages":[{"role":"user","content":"hi"}]}`); got != "us" {
		t.Fatalf(":nitro with sort price: served by %s, want us", got)
	}
	if got := h.served(`{"model":"test/routed:nitro","provider":{"order":["sg"]},"messages":[{"role":"user","content":"hi"}]}`); got != "sg" {
		t.Fatalf(":nitro with order: served by %s, want sg", got)
	}
	c := h.completed()
	for _, e := range c {
		if e.Model != "test/routed" {
			t.Fatalf("recorded model %q", e.Model)
		}
	}
	n := len(c)
	resp, b = h.post(`{"model":"test/routed:online","messages":[{"role":"user","content":"hi"}]}`)
	e := decodeError(t, b)
	if resp.StatusCode != http.StatusBadRequest || e.Error.Metadata["param"] != "model" || !strings.Contains(e.Error.Message, ":online") {
		t.Fatalf(":online: %d %s", resp.StatusCode, b)
	}
	if len(h.completed()) != n {
		t.Fatal("a refused variant was billed")
	}
}

// OpenRouter's provider object works on /messages as on chat: an app that
// ignores a provider there must not be served (and billed) by it. It is
// RouteFree's, so a native Anthropic upstream never sees it.
func TestMessagesHonourProvider(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/gpt":    {{fake: "azure-openai", kind: "openai"}, {fake: "openai", kind: "openai"}},
		"test/claude": {{fake: "anthropic", kind: "anthropic"}},
	}, plan: domain.PlanEnterprise})
	msg := func(model, provider string) string {
		return `{"model":"` + model + `","max_tokens":50,"messages":[{"role":"user","content":"hi"}],"provider":` + provider + `}`
	}
	resp, b := h.postMessages("", h.key, msg("test/gpt", `{"ignore":["azure"]}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if n := len(h.fakes["azure-openai"].Received()); n != 0 {
		t.Fatalf("the ignored provider was called %d times", n)
	}
	if c := h.completed(); len(c) != 1 || c[0].Provider != "openai" {
		t.Fatalf("billed %+v", c)
	}
	resp, b = h.postMessages("", h.key, msg("test/gpt", `{"only":["nobody"]}`))
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "provider.only") {
		t.Fatalf("only nobody: %d %s", resp.StatusCode, b)
	}
	resp, b = h.postMessages("", h.key, msg("test/claude", `{"order":["anthropic"]}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("native: %d %s", resp.StatusCode, b)
	}
	got := h.fakes["anthropic"].Received()
	absent(t, wire(t, got[len(got)-1]), "provider")
}

// observe sets test/routed's upstreams' smoothed time to first byte, by
// provider, as if observed: the test reads no clock.
func (h *harness) observe(ttfb map[string]time.Duration) {
	targets, _ := h.srv.deps.Router.Targets("test/routed")
	for _, tg := range targets {
		if d, ok := ttfb[tg.Provider]; ok {
			tg.Observe(d)
		}
	}
}

// Each entry of a model's endpoints listing describes its own upstream: an
// upstream without its key, listed first for the same provider and model,
// lends the configured one neither its data policy nor its parameters, and
// each shows the parameters it takes rather than the model's.
func TestEndpointsDescribeTheirOwnUpstream(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/routed": {
			{fake: "openai", kind: "openai", unset: true, policy: &catalog.DataPolicy{Training: true, Retention: true}, params: []string{"tools"}},
			{fake: "openai", kind: "openai", policy: &catalog.DataPolicy{}, params: []string{"max_tokens", "temperature"}},
			{fake: "backup", kind: "openai", policy: &catalog.DataPolicy{Retention: true}, params: []string{"max_tokens", "tool_choice", "tools"}},
		},
	}})
	code, b := h.rawGet("/api/v1/models/test/routed/endpoints", "")
	var r struct {
		Data struct {
			Endpoints []Endpoint `json:"endpoints"`
		} `json:"data"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(b), &r) != nil {
		t.Fatalf("endpoints: %d %s", code, b)
	}
	type view struct {
		provider   string
		policy     catalog.DataPolicy
		params     string
		toolChoice bool
	}
	want := []view{
		{"openai", catalog.DataPolicy{}, "max_tokens,temperature", false},
		{"backup", catalog.DataPolicy{Retention: true}, "max_tokens,tool_choice,tools", true},
	}
	var got []view
	for _, ep := range r.Data.Endpoints {
		if ep.DataPolicy == nil {
			t.Fatalf("%s: no data policy: %s", ep.ProviderName, b)
		}
		tc := ep.SupportsToolChoice
		got = append(got, view{ep.ProviderName, *ep.DataPolicy, strings.Join(ep.SupportedParameters, ","), tc.Auto && tc.Function && tc.None && tc.Required})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("endpoints %+v, want %+v", got, want)
	}
}
