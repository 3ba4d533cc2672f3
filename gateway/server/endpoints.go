package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/router"
)

// Endpoint is one upstream of a model in OpenRouter's endpoints listing,
// plus RouteFree's region, data policy and breaker state.
type Endpoint struct {
	Name                    string              `json:"name"`
	ModelID                 string              `json:"model_id"`
	ModelName               string              `json:"model_name"`
	ContextLength           int64               `json:"context_length"`
	Pricing                 ModelPricing        `json:"pricing"`
	ProviderName            string              `json:"provider_name"`
	Tag                     string              `json:"tag"`
	Quantization            *string             `json:"quantization"`
	MaxCompletionTokens     int64               `json:"max_completion_tokens"`
	MaxPromptTokens         int64               `json:"max_prompt_tokens"`
	SupportedParameters     []string            `json:"supported_parameters"`
	Status                  int                 `json:"status"` // 0 serving; negative: degraded or down
	UptimeLast30m           *float64            `json:"uptime_last_30m"`
	UptimeLast5m            *float64            `json:"uptime_last_5m"`
	UptimeLast1d            *float64            `json:"uptime_last_1d"`
	LatencyLast30m          *struct{}           `json:"latency_last_30m"`
	ThroughputLast30m       *struct{}           `json:"throughput_last_30m"`
	SupportsImplicitCaching bool                `json:"supports_implicit_caching"`
	SupportsToolChoice      ToolChoice          `json:"supports_tool_choice"`
	Region                  *string             `json:"region"`
	DataPolicy              *catalog.DataPolicy `json:"data_policy"`
	Breaker                 string              `json:"breaker"`
}

// ToolChoice says which tool_choice values an endpoint takes.
type ToolChoice struct {
	Auto     bool `json:"auto"`
	Function bool `json:"function"`
	None     bool `json:"none"`
	Required bool `json:"required"`
}

// Endpoint statuses, as OpenRouter numbers them.
const (
	statusServing  = 0
	statusDegraded = -1  // breaker half-open: a probe request is let through
	statusDown     = -10 // breaker open: skipped by routing
)

// modelEndpoints serves GET /api/v1/models/{author}/{slug}/endpoints: the
// model's configured upstreams in routing order, each with its price,
// context, region and breaker status. Upstreams without a key configured
// are not listed: they never serve.
func (s *Server) modelEndpoints(c echo.Context) error {
	m, err := s.model(c)
	if err != nil {
		return err
	}
	_, prices, _ := s.deps.Directory.Prices(s.cfg.Now())
	price, priced := prices[m.ID]
	if !priced {
		return apiErr(http.StatusNotFound, "unpriced_model", "no price is published for "+m.ID+" yet", map[string]any{"model": m.ID})
	}
	eps := s.endpointsOf(m, price)
	return c.JSON(http.StatusOK, map[string]any{"data": map[string]any{
		"id": m.ID, "name": m.Name, "created": m.CreatedUnix(), "description": m.Description,
		"architecture": architecture(m), "endpoints": eps}})
}

// endpointsOf lists a model's configured upstreams in routing order, each
// with its price, context, region, data policy, parameters and breaker
// status: each entry is read from its own router target, which was built
// from its own catalog upstream.
func (s *Server) endpointsOf(m *catalog.Model, price domain.ModelPrice) []Endpoint {
	targets, _ := s.deps.Router.Targets(m.ID)
	now := s.cfg.Now()
	eps := make([]Endpoint, 0, len(targets))
	for _, t := range targets {
		tools := slices.Contains(t.Params, "tools")
		ep := Endpoint{Name: t.Provider + " | " + m.ID, ModelID: m.ID, ModelName: m.Name, ContextLength: m.ContextLength,
			Pricing: pricing(price), ProviderName: t.Provider, Tag: t.Provider, MaxCompletionTokens: m.MaxOutput,
			MaxPromptTokens: m.ContextLength, SupportedParameters: nonNil(t.Params),
			SupportsToolChoice: ToolChoice{Auto: tools, Function: tools, None: tools, Required: tools},
			DataPolicy:         t.Policy, Breaker: t.Breaker.State(now)}
		if r := t.Region; r != "" {
			ep.Region = &r
		}
		switch ep.Breaker {
		case router.Open:
			ep.Status = statusDown
		case router.HalfOpen:
			ep.Status = statusDegraded
		}
		eps = append(eps, ep)
	}
	return eps
}

// zdrEndpoints serves GET /api/v1/endpoints/zdr: every upstream, of every
// priced model, whose data policy keeps no data after the request (zero
// data retention), as in a model's endpoints listing.
func (s *Server) zdrEndpoints(c echo.Context) error {
	_, prices, _ := s.deps.Directory.Prices(s.cfg.Now())
	cat := s.deps.Router.Catalog()
	out := []Endpoint{}
	for _, id := range cat.IDs() {
		price, priced := prices[id]
		if !priced {
			continue
		}
		m, _ := cat.Get(id)
		for _, ep := range s.endpointsOf(m, price) {
			if ep.DataPolicy != nil && !ep.DataPolicy.Retention {
				out = append(out, ep)
			}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// listUserModels is OpenRouter's GET /api/v1/models/user: the models the
// caller's key may use (its model list) that have at least one upstream
// meeting the account's standing data requirement (residency, no training,
// no retention), in /models' shape.
func (s *Server) listUserModels(c echo.Context) error {
	k, err := s.caller(c)
	if err != nil {
		return err
	}
	acct, ok := s.deps.Directory.Admission(k.AccountID, k.ID, s.cfg.Now())
	if !ok {
		return apiErr(http.StatusForbidden, "no_account", "the key's account is not open", nil)
	}
	rt, _ := parseRouting(nil, acct.Requirement, nil)
	models, err := filterModels(c, s.Models())
	if err != nil {
		return err
	}
	data := []ModelInfo{}
	for _, m := range models {
		if !k.Allows(m.ID) {
			continue
		}
		targets, _ := s.deps.Router.Targets(m.ID)
		if eligible, _ := rt.route(targets); len(eligible) > 0 {
			data = append(data, m)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data, "total_count": len(data), "links": map[string]any{"next": nil}})
}

// modelsCount serves GET /api/v1/models/count: how many models /models
// lists with the same filters.
func (s *Server) modelsCount(c echo.Context) error {
	models, err := filterModels(c, s.Models())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": map[string]any{"count": len(models)}})
}

// Provider is one entry of GET /api/v1/providers.
type Provider struct {
	Name             string   `json:"name"`
	Slug             string   `json:"slug"`
	PrivacyPolicyURL *string  `json:"privacy_policy_url"`
	Datacenters      []string `json:"datacenters"` // null: RouteFree's regions are not all country codes
	Regions          []string `json:"regions"`
}

// providers serves GET /api/v1/providers: every provider the catalog routes
// to, with the regions its upstreams declare.
func (s *Server) providers(c echo.Context) error {
	byName := map[string]*Provider{}
	var out []*Provider
	for _, m := range s.deps.Router.Catalog().Models {
		for _, u := range m.Upstreams {
			p := byName[u.Provider]
			if p == nil {
				p = &Provider{Name: u.Provider, Slug: u.Provider, Regions: []string{}}
				byName[u.Provider] = p
				out = append(out, p)
			}
			if r := s.deps.Router.Region(u); r != "" && !slices.Contains(p.Regions, r) {
				p.Regions = append(p.Regions, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b *Provider) int { return strings.Compare(a.Slug, b.Slug) })
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}
