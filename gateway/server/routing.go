package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers"
	"github.com/routefree/routefree/gateway/router"
)

// providerPrefs is OpenRouter's provider object: which upstreams may serve a
// request and in what order. Fields RouteFree does not act on
// (quantizations, preferred_min_throughput…) are accepted and ignored.
type providerPrefs struct {
	Order             []string        `json:"order"`
	Only              []string        `json:"only"`
	Ignore            []string        `json:"ignore"`
	AllowFallbacks    *bool           `json:"allow_fallbacks"`
	Sort              json.RawMessage `json:"sort"` // "price" | "throughput" | "latency", or {"by": …}
	RequireParameters bool            `json:"require_parameters"`
	DataCollection    string          `json:"data_collection"` // allow | deny
	ZDR               bool            `json:"zdr"`             // zero data retention
	MaxPrice          *struct {
		Prompt     *decimal.Decimal `json:"prompt"`
		Completion *decimal.Decimal `json:"completion"`
	} `json:"max_price"`
	// DataResidency is RouteFree's: "tw" keeps the request on upstreams
	// that process it in Taiwan.
	DataResidency string `json:"data_residency"`

	sortBy string
}

// routing is what the request's upstreams must meet, and how to order them.
type routing struct {
	prefs  *providerPrefs // nil: the request sent no provider object
	req    domain.DataRequirement
	params []string // the request's parameters, for require_parameters
}

func badProvider(param, format string, args ...any) *APIError {
	return apiErr(http.StatusBadRequest, "invalid_request", "provider."+param+": "+fmt.Sprintf(format, args...), map[string]any{"param": "provider." + param})
}

// badPrice names the limit of a provider object's max_price that is no
// decimal: "prompt", else "completion".
func badPrice(raw json.RawMessage) string {
	var p struct {
		MaxPrice map[string]json.RawMessage `json:"max_price"`
	}
	_ = json.Unmarshal(raw, &p)
	var d decimal.Decimal
	if v, ok := p.MaxPrice["prompt"]; ok && json.Unmarshal(v, &d) != nil {
		return "prompt"
	}
	return "completion"
}

// parseRouting reads the provider object and merges the account's data
// requirement into it: a request may add requirements, never lift the
// account's.
func parseRouting(raw json.RawMessage, acct *domain.DataRequirement, req *chat.Request) (*routing, *APIError) {
	rt := &routing{}
	if acct != nil {
		rt.req = *acct
		rt.req.Source = "account"
	}
	if len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		p := &providerPrefs{}
		if err := json.Unmarshal(raw, p); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				if te.Field == "" {
					return nil, apiErr(http.StatusBadRequest, "invalid_request", "provider must be an object", map[string]any{"param": "provider"})
				}
				return nil, badProvider(te.Field, "must be %s", jsonTypeName(te.Type.Kind()))
			}
			// Only max_price's decimals decode themselves: their errors
			// quote the value and name no field.
			return nil, badProvider("max_price."+badPrice(raw), "must be a number or a decimal string, NTD per million tokens")
		}
		if len(p.Sort) > 0 {
			var by string
			if err := json.Unmarshal(p.Sort, &by); err != nil {
				var obj struct {
					By string `json:"by"`
				}
				if json.Unmarshal(p.Sort, &obj) != nil {
					return nil, badProvider("sort", `must be "price", "throughput" or "latency"`)
				}
				by = obj.By
			}
			switch by {
			case "", "price", "throughput", "latency":
				p.sortBy = by
			default:
				return nil, badProvider("sort", `must be "price", "throughput" or "latency", not %q`, by)
			}
		}
		switch p.DataCollection {
		case "", "allow":
		case "deny":
			rt.req.NoTraining, rt.req.NoRetention = true, true
		default:
			return nil, badProvider("data_collection", `must be "allow" or "deny", not %q`, p.DataCollection)
		}
		if p.ZDR {
			rt.req.NoRetention = true
		}
		switch r := strings.ToLower(p.DataResidency); r {
		case "":
		case "tw":
			rt.req.Residency = r
		default:
			return nil, badProvider("data_residency", `only "tw" (Taiwan) is offered, not %q`, p.DataResidency)
		}
		if mp := p.MaxPrice; mp != nil {
			if (mp.Prompt != nil && mp.Prompt.IsNegative()) || (mp.Completion != nil && mp.Completion.IsNegative()) {
				return nil, badProvider("max_price", "prices must not be negative")
			}
		}
		rt.prefs = p
		if p.RequireParameters {
			rt.params = requestParams(req)
		}
		if p.DataCollection == "deny" || p.ZDR || p.DataResidency != "" {
			if rt.req.Source == "account" {
				rt.req.Source = "request+account"
			} else {
				rt.req.Source = "request"
			}
		}
	}
	return rt, nil
}

// jsonTypeName names a Go kind as the JSON type a client sends.
func jsonTypeName(k reflect.Kind) string {
	switch k {
	case reflect.Slice:
		return "an array of strings"
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a number"
}

// requirement is the data requirement to record, nil when there is none.
func (rt *routing) requirement() *domain.DataRequirement {
	if rt == nil || rt.req.IsZero() {
		return nil
	}
	r := rt.req
	return &r
}

// active reports whether routing differs from the catalog's order.
func (rt *routing) active() bool {
	return rt != nil && (rt.prefs != nil || !rt.req.IsZero())
}

// extraParams are the top-level fields outside Request's typed ones that
// count as parameters for require_parameters (OpenRouter's names).
var extraParams = map[string]bool{"frequency_penalty": true, "presence_penalty": true, "repetition_penalty": true,
	"top_k": true, "min_p": true, "top_a": true, "logit_bias": true, "logprobs": true, "top_logprobs": true,
	"web_search_options": true, "verbosity": true, "reasoning_effort": true, "structured_outputs": true}

// requestParams lists the parameters a request sets, by OpenRouter's names:
// structured_outputs too for a response_format of type json_schema.
func requestParams(r *chat.Request) []string {
	var ps []string
	add := func(set bool, name string) {
		if set {
			ps = append(ps, name)
		}
	}
	add(r.MaxTokens != nil, "max_tokens")
	add(r.MaxCompletionTokens != nil, "max_completion_tokens")
	add(r.Temperature != nil, "temperature")
	add(r.TopP != nil, "top_p")
	add(len(r.Stop) > 0, "stop")
	add(r.Seed != nil, "seed")
	add(r.N != nil, "n")
	add(len(r.Tools) > 0, "tools")
	add(r.ToolChoice != nil, "tool_choice")
	add(r.ParallelToolCalls != nil, "parallel_tool_calls")
	add(r.ResponseFormat != nil, "response_format")
	// A schema asks for structured outputs, which an upstream with JSON
	// mode alone does not give (catalog.StructuredOutputs).
	add(r.ResponseFormat != nil && r.ResponseFormat.Type == "json_schema" && r.Extra[catalog.StructuredOutputs] == nil, catalog.StructuredOutputs)
	add(r.Reasoning != nil && r.Extra["reasoning_effort"] == nil, "reasoning")
	for k := range r.Extra {
		add(extraParams[k], k)
	}
	sort.Strings(ps)
	return ps
}

// exclusion says why an upstream may not serve the request ("" if it may).
func (rt *routing) exclusion(t *router.Target) string {
	if p := rt.prefs; p != nil {
		if len(p.Only) > 0 && !hasProvider(p.Only, t.Provider) {
			return "only"
		}
		if hasProvider(p.Ignore, t.Provider) {
			return "ignore"
		}
	}
	if rt.req.Residency == "tw" && !catalog.InTaiwan(t.Region) {
		return "data_residency"
	}
	if rt.req.NoTraining && (t.Policy == nil || t.Policy.Training) {
		return "data_collection"
	}
	if rt.req.NoRetention && (t.Policy == nil || t.Policy.Retention) {
		return "no_retention"
	}
	for _, p := range rt.params {
		if !slices.Contains(t.Params, p) {
			return "require_parameters"
		}
	}
	return ""
}

func hasProvider(list []string, provider string) bool {
	for _, p := range list {
		if namesProvider(p, provider) {
			return true
		}
	}
	return false
}

// openRouterSlugs are OpenRouter's names for providers the catalog names
// otherwise. Apps written for OpenRouter send them in order, only and
// ignore; an ignore that did not recognise one would let the provider it
// excludes serve and be billed.
var openRouterSlugs = map[string]string{
	"azure":            "azure-openai",
	"google-ai-studio": "google",
}

// namesProvider reports whether a name from the provider object names the
// catalog provider: its own name, or OpenRouter's slug or display name for
// it ("azure", "Azure", "Google AI Studio"), in any case.
func namesProvider(name, provider string) bool {
	name = strings.TrimSpace(name)
	if strings.EqualFold(name, provider) {
		return true
	}
	if len(name) > len("google-ai-studio") {
		return false
	}
	var buf [len("google-ai-studio")]byte
	slug := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c == ' ':
			c = '-'
		}
		slug[i] = c
	}
	return openRouterSlugs[string(slug)] == provider
}

// route orders and filters a model's upstreams. Without a provider object
// or a data requirement it returns targets itself, in the catalog's order.
// Otherwise: the eligible upstreams, sorted as asked, then those named in
// order moved to the front in that order. With allow_fallbacks false, only
// the upstreams order names, or without an order the first one. excluded
// says why each other upstream was left out.
func (rt *routing) route(targets []*router.Target) (eligible []*router.Target, excluded []map[string]any) {
	if !rt.active() {
		return targets, nil
	}
	for _, t := range targets {
		if why := rt.exclusion(t); why != "" {
			excluded = append(excluded, map[string]any{"provider": t.Provider, "region": t.Region, "excluded_by": why})
			continue
		}
		eligible = append(eligible, t)
	}
	p := rt.prefs
	if p == nil {
		return eligible, excluded
	}
	switch p.sortBy {
	case "latency", "throughput":
		// Throughput is not measured per upstream: the smoothed time to
		// first byte stands for both. Upstreams not yet observed come last.
		sort.SliceStable(eligible, func(i, j int) bool {
			a, b := eligible[i].Latency(), eligible[j].Latency()
			return a != 0 && (b == 0 || a < b)
		})
	case "price":
		// A model's upstreams share its price: the catalog order stands.
	}
	if len(p.Order) > 0 {
		rank := func(t *router.Target) int {
			for i, name := range p.Order {
				if namesProvider(name, t.Provider) {
					return i
				}
			}
			return len(p.Order)
		}
		sort.SliceStable(eligible, func(i, j int) bool { return rank(eligible[i]) < rank(eligible[j]) })
	}
	if p.AllowFallbacks != nil && !*p.AllowFallbacks {
		if len(p.Order) > 0 {
			// As OpenRouter has it: without fallbacks, the providers order
			// names serve, in its order, and no other.
			named := eligible[:0]
			for _, t := range eligible {
				if hasProvider(p.Order, t.Provider) {
					named = append(named, t)
					continue
				}
				excluded = append(excluded, map[string]any{"provider": t.Provider, "region": t.Region, "excluded_by": "order"})
			}
			eligible = named
		} else if len(eligible) > 1 {
			eligible = eligible[:1]
		}
	}
	return eligible, excluded
}

// overPrice names the max_price limit a model's price is above, "" if none.
func (rt *routing) overPrice(price domain.ModelPrice) string {
	if rt == nil || rt.prefs == nil || rt.prefs.MaxPrice == nil {
		return ""
	}
	mp := rt.prefs.MaxPrice
	if mp.Prompt != nil && price.Input.GreaterThan(*mp.Prompt) {
		return "prompt"
	}
	if mp.Completion != nil && price.Output.GreaterThan(*mp.Completion) {
		return "completion"
	}
	return ""
}

// requirementNames describes the exclusions for a message.
var requirementNames = map[string]string{
	"only":               "provider.only",
	"ignore":             "provider.ignore",
	"data_residency":     "data residency in Taiwan",
	"data_collection":    "data_collection deny (no training, no retention)",
	"no_retention":       "no data retention",
	"require_parameters": "require_parameters",
	"order":              "provider.order with allow_fallbacks false",
}

// applyRouting holds the request's chain to its provider object and data
// requirement before anything is spent: a model above max_price or with no
// eligible upstream is dropped from the chain, and when no model remains
// the request is refused, naming the requirement, with no upstream called.
func (k *call) applyRouting() error {
	rt, ae := parseRouting(k.req.Options["provider"], k.dataRequirement(), k.req)
	if ae != nil {
		return ae
	}
	if k.variantSort != "" {
		if rt.prefs == nil {
			rt.prefs = &providerPrefs{}
		}
		if rt.prefs.sortBy == "" {
			rt.prefs.sortBy = k.variantSort
		}
	}
	k.routing = rt
	if !rt.active() {
		return nil
	}
	var kept []priced
	var refusal *APIError
	for _, p := range k.chain {
		if limit := rt.overPrice(p.price); limit != "" {
			if refusal == nil {
				mp := rt.prefs.MaxPrice
				refusal = apiErr(http.StatusBadRequest, "max_price_exceeded",
					fmt.Sprintf("%s costs NT$%s input and NT$%s output per million tokens, above provider.max_price.%s", p.model.ID,
						p.price.Input.String(), p.price.Output.String(), limit),
					map[string]any{"model": p.model.ID, "param": "provider.max_price." + limit, "requirement": "max_price",
						"price":     map[string]string{"prompt": p.price.Input.String(), "completion": p.price.Output.String()},
						"max_price": map[string]any{"prompt": mp.Prompt, "completion": mp.Completion}, "currency": "TWD"})
			}
			continue
		}
		targets, _ := k.s.deps.Router.Targets(p.model.ID)
		if len(targets) > 0 {
			if eligible, excluded := rt.route(targets); len(eligible) == 0 {
				if refusal == nil {
					refusal = k.noEligible(p.model, excluded)
				}
				continue
			}
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return refusal
	}
	k.chain = kept
	k.use(kept[0])
	return nil
}

// applyProviderLimits holds the request's chain to what its upstreams'
// providers can take (Gemini generates at most 8 candidates, Anthropic
// one), as applyRouting does to the provider object. An upstream that
// cannot is skipped when another upstream of the model can serve the
// request, as failover skips it; a model none of whose upstreams can is
// dropped from the chain; and when no model remains the request is a 400
// naming the limit, with nothing held and no upstream called.
func (k *call) applyProviderLimits() error {
	var kept []priced
	var refusal *APIError
	for _, p := range k.chain {
		targets, _ := k.s.deps.Router.Targets(p.model.ID)
		if _, refused, _ := k.capable(targets); refused == nil {
			// Every upstream can take it, as nearly every request: no need
			// to apply the routing preferences to find out.
			kept = append(kept, p)
			continue
		}
		targets, _ = k.routing.route(targets)
		if len(targets) > 0 {
			if able, refused, skipped := k.capable(targets); len(able) == 0 {
				if refusal == nil {
					refusal = k.beyondProviders(p.model, refused, skipped)
				}
				continue
			}
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return refusal
	}
	if len(kept) < len(k.chain) {
		k.chain = kept
		k.use(kept[0])
	}
	return nil
}

// capable keeps the targets whose provider can take the request. refused is
// the first refusal of the others, and skipped names them for an error's
// metadata. Without a refusal it returns targets itself.
func (k *call) capable(targets []*router.Target) (able []*router.Target, refused *chat.ValidationError, skipped []map[string]any) {
	for i, t := range targets {
		var err error
		if ad, aerr := k.adapter(t.Kind); aerr == nil {
			err = providers.Check(ad, k.req)
		}
		if err == nil {
			if refused != nil {
				able = append(able, t)
			}
			continue
		}
		if refused == nil {
			if !errors.As(err, &refused) {
				refused = &chat.ValidationError{Message: err.Error()}
			}
			able = append(make([]*router.Target, 0, len(targets)), targets[:i]...)
		}
		skipped = append(skipped, map[string]any{"provider": t.Provider, "error": "invalid_request"})
	}
	if refused == nil {
		return targets, nil, nil
	}
	return able, refused, skipped
}

// beyondProviders is the refusal when no upstream of a model can take the
// request: the client's to fix, a 400 naming the parameter.
func (k *call) beyondProviders(m *catalog.Model, ve *chat.ValidationError, skipped []map[string]any) *APIError {
	md := map[string]any{"model": m.ID, "attempts": skipped}
	if ve.Param != "" {
		md["param"] = ve.Param
	}
	return apiErr(http.StatusBadRequest, "invalid_request", ve.Error(), md)
}

// noEligible is the refusal when every upstream of a model is excluded.
func (k *call) noEligible(m *catalog.Model, excluded []map[string]any) *APIError {
	var reqs []string
	for _, e := range excluded {
		if r := e["excluded_by"].(string); !slices.Contains(reqs, r) {
			reqs = append(reqs, r)
		}
	}
	names := make([]string, len(reqs))
	for i, r := range reqs {
		names[i] = requirementNames[r]
	}
	md := map[string]any{"model": m.ID, "requirements": reqs, "upstreams": excluded}
	if req := k.routing.requirement(); req != nil {
		md["data_requirement"] = req
	}
	if len(k.routing.params) > 0 {
		md["parameters"] = k.routing.params
	}
	return apiErr(http.StatusNotFound, "no_eligible_upstream",
		fmt.Sprintf("no upstream of %s meets the request's requirements: %s", m.ID, strings.Join(names, "; ")), md)
}

// dataRequirement is the account's standing data requirement, nil if none.
func (k *call) dataRequirement() *domain.DataRequirement {
	if k.acct.Requirement.IsZero() {
		return nil
	}
	return k.acct.Requirement
}
