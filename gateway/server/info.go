package server

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
)

// Currency is the ISO 4217 code of every price and amount the API shows.
// OpenRouter's figures are USD; RouteFree's are New Taiwan dollars.
const Currency = "TWD"

// ModelInfo is one entry of GET /api/v1/models, in OpenRouter's field names
// and types, plus RouteFree's own fields (object, owned_by, price_list and
// pricing.per_million).
type ModelInfo struct {
	ID                  string          `json:"id"`
	CanonicalSlug       string          `json:"canonical_slug"`
	Name                string          `json:"name"`
	Created             int64           `json:"created"`
	Description         string          `json:"description"`
	ContextLength       int64           `json:"context_length"`
	Architecture        Architecture    `json:"architecture"`
	Pricing             ModelPricing    `json:"pricing"`
	TopProvider         TopProvider     `json:"top_provider"`
	PerRequestLimits    *struct{}       `json:"per_request_limits"` // always null: no per-request caps
	SupportedParameters []string        `json:"supported_parameters"`
	DefaultParameters   map[string]*int `json:"default_parameters"`
	SupportedVoices     []string        `json:"supported_voices"` // null: no speech models
	Links               ModelLinks      `json:"links"`
	Object              string          `json:"object"`
	OwnedBy             string          `json:"owned_by"`
	PriceList           int             `json:"price_list,omitempty"`
	// categories are the catalog's use cases of the model, which
	// ?category= filters on (OpenRouter's model object has no such field).
	categories []string
}

// Architecture is what a model takes and gives.
type Architecture struct {
	Modality         string   `json:"modality"` // "text+image->text"
	InputModalities  []string `json:"input_modalities"`
	OutputModalities []string `json:"output_modalities"`
	Tokenizer        string   `json:"tokenizer"`
	InstructType     *string  `json:"instruct_type"`
}

// ModelPricing is OpenRouter's pricing object: decimal strings per single
// token (or per request, image, search), here in NTD, with the currency
// beside them and RouteFree's per-million figures.
type ModelPricing struct {
	Prompt            string          `json:"prompt"`
	Completion        string          `json:"completion"`
	Request           string          `json:"request"`
	Image             string          `json:"image"`
	WebSearch         string          `json:"web_search"`
	InternalReasoning string          `json:"internal_reasoning"`
	InputCacheRead    string          `json:"input_cache_read"`
	InputCacheWrite   string          `json:"input_cache_write"`
	Currency          string          `json:"currency"`
	PerMillion        PerMillionPrice `json:"per_million"`
}

// PerMillionPrice is RouteFree's price list entry: NTD per million tokens.
type PerMillionPrice struct {
	Input        string `json:"input"`
	Output       string `json:"output"`
	CachedInput  string `json:"cached_input"`
	CacheWrite   string `json:"cache_write,omitempty"`
	CacheWrite1h string `json:"cache_write_1h,omitempty"`
	Reasoning    string `json:"reasoning,omitempty"`
}

// TopProvider is the first upstream's limits.
type TopProvider struct {
	ContextLength       int64 `json:"context_length"`
	MaxCompletionTokens int64 `json:"max_completion_tokens"`
	IsModerated         bool  `json:"is_moderated"`
}

// ModelLinks points at the model's endpoints listing.
type ModelLinks struct {
	Details string `json:"details"`
}

// Models returns the models of the catalog that have a price in force now,
// with it: a model without one would be refused (404), so it is not offered.
func (s *Server) Models() []ModelInfo {
	ver, prices, _ := s.deps.Directory.Prices(s.cfg.Now())
	cat := s.deps.Router.Catalog()
	out := make([]ModelInfo, 0, len(cat.Models))
	for _, id := range cat.IDs() {
		m, _ := cat.Get(id)
		if p, priced := prices[id]; priced {
			out = append(out, modelInfo(m, p, ver))
		}
	}
	return out
}

func modelInfo(m *catalog.Model, p domain.ModelPrice, ver int) ModelInfo {
	return ModelInfo{ID: m.ID, CanonicalSlug: m.ID, Name: m.Name, Created: m.CreatedUnix(), Description: m.Description,
		ContextLength: m.ContextLength, Architecture: architecture(m), Pricing: pricing(p),
		TopProvider:         TopProvider{ContextLength: m.ContextLength, MaxCompletionTokens: m.MaxOutput},
		SupportedParameters: nonNil(m.SupportedParameters),
		DefaultParameters:   map[string]*int{"temperature": nil, "top_p": nil, "frequency_penalty": nil},
		Links:               ModelLinks{Details: "/api/v1/models/" + m.ID + "/endpoints"},
		Object:              "model", OwnedBy: strings.SplitN(m.ID, "/", 2)[0], PriceList: ver, categories: m.Categories}
}

// nonNil is s, or an empty slice for nil: JSON's [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func architecture(m *catalog.Model) Architecture {
	in, out := nonNil(m.InputModalities), nonNil(m.OutputModalities)
	return Architecture{Modality: strings.Join(in, "+") + "->" + strings.Join(out, "+"),
		InputModalities: in, OutputModalities: out, Tokenizer: m.TokenizerGroup()}
}

// perToken turns a price per million tokens into OpenRouter's per-token
// string: an exact shift of the decimal point, never a rounding.
func perToken(d decimal.Decimal) string { return d.Shift(-6).String() }

func pricing(p domain.ModelPrice) ModelPricing {
	reasoning := p.Reasoning
	if reasoning.IsZero() {
		reasoning = p.Output // reasoning tokens bill at the output price
	}
	pp := ModelPricing{Prompt: perToken(p.Input), Completion: perToken(p.Output), Request: "0", Image: "0", WebSearch: "0",
		InternalReasoning: perToken(reasoning), InputCacheRead: perToken(p.CachedInput),
		InputCacheWrite: perToken(p.CacheWritePrice()), Currency: Currency,
		PerMillion: PerMillionPrice{Input: p.Input.String(), Output: p.Output.String(), CachedInput: p.CachedInput.String()}}
	if !p.Reasoning.IsZero() {
		pp.PerMillion.Reasoning = p.Reasoning.String()
	}
	if p.CacheWrite != nil {
		pp.PerMillion.CacheWrite = p.CacheWrite.String()
	}
	// OpenRouter's input_cache_write is the five-minute price; the
	// one-hour one has no field of its own there.
	if p.CacheWrite1h != nil {
		pp.PerMillion.CacheWrite1h = p.CacheWrite1h.String()
	}
	return pp
}

func (s *Server) listModels(c echo.Context) error {
	models, err := filterModels(c, s.Models())
	if err != nil {
		return err
	}
	return modelList(c, models)
}

// modelFilter is OpenRouter's filters of its model listings (/models,
// /models/count, /models/user): output_modalities, a comma-separated list
// of which a model must give one, "text" when not asked ("all" lists every
// model); supported_parameters and input_modalities, of which a model must
// take every one; category, one of OpenRouter's use-case categories, which
// the model's catalog entry must list; q, words that must each be in the
// model's ID or name (any case). sort orders the list (see sortModels).
// OpenRouter's other filters (context, model_authors, providers, prices…)
// are not read.
type modelFilter struct {
	outputs  []string // nil: every output modality
	params   []string
	inputs   []string
	category string
	words    []string
	sort     string
}

func modelFilterOf(c echo.Context) (modelFilter, error) {
	f := modelFilter{outputs: []string{"text"}, params: queryList(c, "supported_parameters"),
		inputs: queryList(c, "input_modalities"), sort: c.QueryParam("sort"),
		category: strings.ToLower(strings.TrimSpace(c.QueryParam("category"))),
		words:    strings.Fields(strings.ToLower(c.QueryParam("q")))}
	if out := queryList(c, "output_modalities"); len(out) > 0 {
		f.outputs = out
		if slices.Contains(out, "all") {
			f.outputs = nil
		}
	}
	if f.category != "" && !slices.Contains(catalog.Categories, f.category) {
		return f, apiErr(http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("category must be one of %s", strings.Join(catalog.Categories, ", ")), map[string]any{"param": "category"})
	}
	return f, nil
}

// queryList splits a comma-separated query parameter, in lower case,
// leaving out empty items.
func queryList(c echo.Context, name string) []string {
	var out []string
	for _, v := range strings.Split(c.QueryParam(name), ",") {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (f modelFilter) keeps(m ModelInfo) bool {
	if f.outputs != nil && !slices.ContainsFunc(m.Architecture.OutputModalities, func(o string) bool { return slices.Contains(f.outputs, o) }) {
		return false
	}
	for _, p := range f.params {
		if !slices.Contains(m.SupportedParameters, p) {
			return false
		}
	}
	for _, in := range f.inputs {
		if !slices.Contains(m.Architecture.InputModalities, in) {
			return false
		}
	}
	if f.category != "" && !slices.Contains(m.categories, f.category) {
		return false
	}
	if len(f.words) > 0 {
		id, name := strings.ToLower(m.ID), strings.ToLower(m.Name)
		for _, w := range f.words {
			if !strings.Contains(id, w) && !strings.Contains(name, w) {
				return false
			}
		}
	}
	return true
}

// filterModels keeps the models the request's filters ask for, in the
// order it asks for.
func filterModels(c echo.Context, models []ModelInfo) ([]ModelInfo, error) {
	f, err := modelFilterOf(c)
	if err != nil {
		return nil, err
	}
	models = slices.DeleteFunc(models, func(m ModelInfo) bool { return !f.keeps(m) })
	sortModels(models, f.sort)
	return models, nil
}

// sortModels orders models by one of OpenRouter's sorts that RouteFree has
// the figures for: the average of the prompt and completion prices
// (pricing-low-to-high, pricing-high-to-low), the context length
// (context-high-to-low) or the release date (newest). Any other sort
// (popularity, throughput, benchmarks…) keeps the catalog's order, as no
// sort does. Ties keep it too.
func sortModels(models []ModelInfo, by string) {
	// The sum orders as the average does.
	avgPrice := func(m ModelInfo) decimal.Decimal {
		in, _ := decimal.NewFromString(m.Pricing.PerMillion.Input)
		out, _ := decimal.NewFromString(m.Pricing.PerMillion.Output)
		return in.Add(out)
	}
	var order func(a, b ModelInfo) int
	switch by {
	case "pricing-low-to-high":
		order = func(a, b ModelInfo) int { return avgPrice(a).Cmp(avgPrice(b)) }
	case "pricing-high-to-low":
		order = func(a, b ModelInfo) int { return avgPrice(b).Cmp(avgPrice(a)) }
	case "context-high-to-low":
		order = func(a, b ModelInfo) int { return cmp.Compare(b.ContextLength, a.ContextLength) }
	case "newest":
		order = func(a, b ModelInfo) int { return cmp.Compare(b.Created, a.Created) }
	default:
		return
	}
	slices.SortStableFunc(models, order)
}

// listEmbeddingModels serves OpenRouter's GET /api/v1/embeddings/models:
// the models whose output is embeddings, in /models' shape.
func (s *Server) listEmbeddingModels(c echo.Context) error {
	var data []ModelInfo
	for _, m := range s.Models() {
		if slices.Equal(m.Architecture.OutputModalities, []string{"embeddings"}) {
			data = append(data, m)
		}
	}
	return modelList(c, nonNil(data))
}

func modelList(c echo.Context, data []ModelInfo) error {
	return c.JSON(http.StatusOK, map[string]any{"data": data, "total_count": len(data),
		"links": map[string]any{"next": nil}})
}

// modelParam is the model ID a models path names: :author/:slug, or one
// :id segment whose slash came escaped (the OpenAI SDK's models.retrieve
// sends /models/openai%2Fgpt-4o). Echo hands path parameters over escaped.
func modelParam(c echo.Context) string {
	id := c.Param("id")
	if id == "" {
		id = c.Param("author") + "/" + c.Param("slug")
	}
	if u, err := url.PathUnescape(id); err == nil {
		return u
	}
	return id
}

// model finds the catalog model named by the path. A routing variant
// RouteFree offers (":nitro", ":floor") names its base model, whose page it
// is, as OpenRouter's model pages resolve variants: such a model ID is one
// chat serves.
func (s *Server) model(c echo.Context) (*catalog.Model, error) {
	id := modelParam(c)
	cat := s.deps.Router.Catalog()
	m, ok := cat.Get(id)
	if i := strings.LastIndexByte(id, ':'); !ok && i > 0 && modelVariants[id[i+1:]] != "" {
		m, ok = cat.Get(id[:i])
	}
	if !ok {
		return nil, apiErr(http.StatusNotFound, "unknown_model", fmt.Sprintf("model %q does not exist", id), map[string]any{"model": id})
	}
	return m, nil
}

// modelOrEndpoints serves /models/{author}/{slug}, and also
// /models/{id}/endpoints when the ID's slash came escaped: the two paths
// have the same number of segments.
func (s *Server) modelOrEndpoints(c echo.Context) error {
	author := c.Param("author")
	if u, err := url.PathUnescape(author); err != nil || !strings.Contains(u, "/") {
		return s.getModel(c)
	}
	if c.Param("slug") != "endpoints" {
		return echo.ErrNotFound
	}
	c.SetParamNames("id")
	c.SetParamValues(author)
	return s.modelEndpoints(c)
}

func (s *Server) getModel(c echo.Context) error {
	m, err := s.model(c)
	if err != nil {
		return err
	}
	ver, prices, _ := s.deps.Directory.Prices(s.cfg.Now())
	p, priced := prices[m.ID]
	if !priced {
		return apiErr(http.StatusNotFound, "unpriced_model", fmt.Sprintf("no price is published for %s yet", m.ID), map[string]any{"model": m.ID})
	}
	info := modelInfo(m, p, ver)
	return c.JSON(http.StatusOK, modelAnswer{info, info})
}

// modelAnswer is a model's page as both SDKs read it: the OpenAI SDK's
// models.retrieve takes the model from the top of the body, the OpenRouter
// SDK's models.get from "data".
type modelAnswer struct {
	ModelInfo
	Data ModelInfo `json:"data"`
}

// caller authenticates a key for the informational endpoints.
func (s *Server) caller(c echo.Context) (Key, error) {
	secret, err := bearer(c.Request())
	if err != nil {
		return Key{}, err
	}
	k, ok := s.deps.Directory.Key(commands.HashKey(secret))
	if !ok {
		return Key{}, apiErr(http.StatusUnauthorized, "bad_key", "invalid API key", nil)
	}
	if k.Revoked || k.Disabled {
		return Key{}, refusedKey(k)
	}
	if k.Expired(s.cfg.Now()) {
		return Key{}, expiredKey(k)
	}
	return k, nil
}

// expiredKey is the answer to a key past its expiry.
func expiredKey(k Key) error {
	at := k.ExpiresAt.UTC().Format(time.RFC3339)
	return apiErr(http.StatusUnauthorized, "key_expired", "this API key expired at "+at+"; use or issue another key",
		map[string]any{"expired_at": at})
}

// expiresAt is a key's expiry as OpenRouter writes it (ISO 8601, UTC), or
// null.
func expiresAt(k Key) any {
	if k.ExpiresAt.IsZero() {
		return nil
	}
	return k.ExpiresAt.UTC().Format(time.RFC3339)
}

// stoppedKey is the refusal of a key that may no longer be used: revoked
// or disabled, or its account suspended; nil for one that may.
func stoppedKey(k Key) *APIError {
	switch {
	case k.Revoked || k.Disabled:
		return refusedKey(k).(*APIError)
	case k.Suspended:
		return apiErr(http.StatusForbidden, "account_suspended", "this account is suspended", nil)
	}
	return nil
}

// refusedKey is the answer to a revoked or disabled key: 401, as OpenRouter
// answers a key it no longer takes (an expired one too), the message
// saying which.
func refusedKey(k Key) error {
	if k.Revoked {
		return apiErr(http.StatusUnauthorized, "key_revoked", "this API key has been revoked", nil)
	}
	return apiErr(http.StatusUnauthorized, "key_disabled", "this API key is disabled; a management key can enable it again", nil)
}

// amount is an exact NTD amount written as a JSON number (OpenRouter's
// amounts are numbers; the decimal digits are kept, never a float).
type amount decimal.Decimal

func (a amount) MarshalJSON() ([]byte, error) { return []byte(decimal.Decimal(a).String()), nil }

// generation serves GET /api/v1/generation?id=… from the request index, for
// the caller's own account only, in OpenRouter's shape.
func (s *Server) generation(c echo.Context) error {
	k, err := s.caller(c)
	if err != nil {
		return err
	}
	id := c.QueryParam("id")
	if id == "" {
		return apiErr(http.StatusBadRequest, "invalid_request", "query parameter id is required", nil)
	}
	s.caughtUp(c.Request().Context())
	g, ok := s.deps.Directory.Generation(id)
	if !ok || g.AccountID != k.AccountID || !readsRequestOf(k, g) {
		// Another account's request, or one the caller may not see, is as
		// unknown as a missing one.
		return apiErr(http.StatusNotFound, "unknown_generation", fmt.Sprintf("generation %q not found", id), nil)
	}
	data := generationData(g)
	// Chat refuses embedding models and /embeddings every other model, so
	// the model tells which API the request was.
	if m, ok := s.deps.Router.Catalog().Get(g.Model); ok && slices.Contains(m.OutputModalities, "embeddings") {
		data["api_type"] = "embeddings"
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data})
}

// readsRequestOf reports whether the caller, a key of the request's
// account, may read the request: an inference key reads its account's, a
// management key those of the keys within its limits (domain.KeyWithin),
// as the keys and activity APIs show it only those keys.
func readsRequestOf(caller Key, g Generation) bool {
	if !caller.Management {
		return true
	}
	var of domain.KeyIssued // a key unknown has no limits: only an unlimited management key reads its requests
	if g.Key != nil {
		of = *g.Key
	}
	return domain.KeyWithin(caller.Scope(), of) == nil
}

// generationContent answers OpenRouter's GET /api/v1/generation/content:
// RouteFree keeps no prompt or completion, so there is none to give.
func (s *Server) generationContent(c echo.Context) error {
	if _, err := s.caller(c); err != nil {
		return err
	}
	return apiErr(http.StatusNotFound, "content_not_stored",
		"RouteFree never stores prompts or completions, only token counts, model, times and cost: GET /api/v1/generation?id= gives those", nil)
}

// orNull is v, or JSON null when v is the zero value (unknown).
func orNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// generationData is OpenRouter's generation object: numbers where it has
// numbers, null where RouteFree does not know the figure.
func generationData(g Generation) map[string]any {
	var genTime any
	if g.TTFBMs > 0 && g.LatencyMs >= g.TTFBMs {
		genTime = g.LatencyMs - g.TTFBMs
	}
	cancelled := g.Outcome == domain.OutcomeClientDisconnected
	finish := g.FinishReason
	if cancelled && finish == "error" {
		// An "error" recorded for a stream the client left is the
		// gateway's, never the upstream's: cancelled, not failed.
		finish = ""
	}
	native := g.NativeFinishReason
	if native == "" {
		native = finish // the same reason (an OpenAI-shaped upstream's), or none
	}
	return map[string]any{
		"id": g.ID, "created_at": g.CreatedAt.UTC().Format(time.RFC3339Nano), "model": g.Model,
		"total_cost": amount(g.Cost), "usage": amount(g.Cost), "upstream_inference_cost": nil,
		"origin": g.AppReferer, "http_referer": orNull(g.AppReferer), "app_id": nil,
		"is_byok": false, "upstream_id": nil, "cache_discount": nil, "streamed": g.Streamed, "cancelled": cancelled,
		"provider_name": orNull(g.Provider), "latency": g.LatencyMs, "moderation_latency": nil, "generation_time": genTime,
		"finish_reason": orNull(finish), "native_finish_reason": orNull(native),
		"tokens_prompt": g.TokensPrompt, "tokens_completion": g.TokensOut,
		"native_tokens_prompt": g.TokensPrompt, "native_tokens_completion": g.TokensOut,
		"native_tokens_reasoning": g.Reasoning, "native_tokens_cached": g.Cached, "native_tokens_completion_images": nil,
		"num_media_prompt": nil, "num_media_completion": nil, "num_search_results": nil, "num_fetches": nil,
		"num_input_audio_prompt": nil, "api_type": "completions", "data_region": "global", "external_user": nil,
		"preset_id": nil, "provider_responses": nil, "router": nil, "service_tier": nil, "user_agent": nil,
		"web_search_engine": nil, "workspace_id": nil, "request_id": g.ID,
		// RouteFree's own fields.
		"currency": Currency, "upstream_model": orNull(g.Upstream), "usage_estimated": g.Estimated,
		"time_to_first_byte_ms": orNull(g.TTFBMs), "outcome": g.Outcome, "status": g.Status,
		"attempts": g.Attempts, "app_title": orNull(g.AppTitle),
	}
}

// credits serves GET /api/v1/credits: everything credited to the caller's
// account and everything its requests cost, in NTD (their difference is the
// balance).
func (s *Server) credits(c echo.Context) error {
	k, err := s.caller(c)
	if err != nil {
		return err
	}
	s.caughtUp(c.Request().Context())
	a, _ := s.deps.Directory.Account(k.AccountID, k.ID, s.cfg.Now())
	return c.JSON(http.StatusOK, map[string]any{"data": map[string]any{
		"total_credits": amount(a.TotalCredited), "total_usage": amount(a.TotalUsed),
		"currency": Currency, "balance": amount(a.View.Balance)}})
}

// keyInfo serves GET /api/v1/key: the calling key in OpenRouter's shape
// (label, usage, limit…), plus RouteFree's plan, limits and balance.
func (s *Server) keyInfo(c echo.Context) error {
	k, err := s.caller(c)
	if err != nil {
		return err
	}
	s.caughtUp(c.Request().Context())
	a, _ := s.deps.Directory.Account(k.AccountID, k.ID, s.cfg.Now())
	requests, note := k.Limits.RPM, "requests per minute for this key"
	if requests <= 0 {
		requests, note = -1, "no request limit on this key"
	}
	data := map[string]any{
		"label": k.Name, "usage": amount(a.KeyUsed), "usage_daily": amount(a.KeyDay),
		"usage_weekly": amount(a.KeyWeek), "usage_monthly": amount(a.KeyMonth),
		"limit": nil, "limit_remaining": nil, "limit_reset": nil,
		"is_free_tier": false, "is_management_key": k.Management, "is_provisioning_key": k.Management,
		"include_byok_in_limit": false, "byok_usage": 0, "byok_usage_daily": 0, "byok_usage_weekly": 0, "byok_usage_monthly": 0,
		"rate_limit":                map[string]any{"requests": requests, "interval": "1m", "note": note},
		"free_model_daily_requests": map[string]any{"limit": 0, "remaining": 0, "used": 0},
		"allowed_data_regions":      []string{}, "creator_user_id": nil, "organization_id": k.AccountID,
		"workspace_id": nil, "expires_at": expiresAt(k),
		// RouteFree's own fields.
		"key_id": k.ID, "name": k.Name, "account_id": k.AccountID, "plan": k.Plan,
		"tokens_per_minute": k.Limits.TPM, "requests_per_minute": k.Limits.RPM,
		"models":           k.Models,
		"currency":         Currency,
		"balance":          a.View.Balance.String(),
		"credit_limit":     a.View.CreditLimit.String(),
		"usage_this_month": a.MonthSpend.String(),
		"spend_limit":      nil, "spend_limit_period": nil,
	}
	if k.SpendLimit.IsPositive() {
		data["limit"] = amount(k.SpendLimit)
		data["limit_remaining"] = amount(decimal.Max(k.SpendLimit.Sub(a.KeySpend), decimal.Zero))
		if k.SpendPeriod != domain.SpendNever {
			data["limit_reset"] = k.SpendPeriod // null: a total for the key's life
		}
		data["spend_limit"] = k.SpendLimit.String()
		data["spend_limit_period"] = k.SpendPeriod
		data["spend_this_period"] = a.KeySpend.String()
		data["spend_limit_remaining"] = k.SpendLimit.Sub(a.KeySpend).String()
	}
	// The account's data requirement: its requests stay in Taiwan.
	if r := a.Requirement; r != nil {
		if r.Residency != "" {
			data["allowed_data_regions"] = []string{r.Residency}
		}
		data["data_requirement"] = r
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data})
}
