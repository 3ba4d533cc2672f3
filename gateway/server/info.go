package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
)

// ModelInfo is one entry of GET /api/v1/models.
type ModelInfo struct {
	ID                  string       `json:"id"`
	Object              string       `json:"object"`
	OwnedBy             string       `json:"owned_by"`
	Name                string       `json:"name"`
	ContextLength       int64        `json:"context_length"`
	Pricing             ModelPricing `json:"pricing"`
	Architecture        Modalities   `json:"architecture"`
	SupportedParameters []string     `json:"supported_parameters"`
	PriceList           int          `json:"price_list,omitempty"`
}

// ModelPricing is NTD per million tokens, as decimal strings.
type ModelPricing struct {
	Currency    string `json:"currency"`
	Unit        string `json:"unit"`
	Input       string `json:"input"`
	Output      string `json:"output"`
	CachedInput string `json:"cached_input"`
	Reasoning   string `json:"reasoning,omitempty"`
}

// Modalities lists what a model takes and gives.
type Modalities struct {
	InputModalities  []string `json:"input_modalities"`
	OutputModalities []string `json:"output_modalities"`
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
	mi := ModelInfo{ID: m.ID, Object: "model", OwnedBy: strings.SplitN(m.ID, "/", 2)[0], Name: m.Name,
		ContextLength: m.ContextLength, SupportedParameters: m.SupportedParameters, PriceList: ver,
		Architecture: Modalities{m.InputModalities, m.OutputModalities},
		Pricing: ModelPricing{Currency: "NTD", Unit: "per_million_tokens", Input: p.Input.String(),
			Output: p.Output.String(), CachedInput: p.CachedInput.String()}}
	if !p.Reasoning.IsZero() {
		mi.Pricing.Reasoning = p.Reasoning.String()
	}
	return mi
}

func (s *Server) listModels(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"object": "list", "data": s.Models()})
}

func (s *Server) getModel(c echo.Context) error {
	id := c.Param("author") + "/" + c.Param("slug")
	m, ok := s.deps.Router.Catalog().Get(id)
	if !ok {
		return apiErr(http.StatusNotFound, "unknown_model", fmt.Sprintf("model %q does not exist", id), map[string]any{"model": id})
	}
	ver, prices, _ := s.deps.Directory.Prices(s.cfg.Now())
	p, priced := prices[id]
	if !priced {
		return apiErr(http.StatusNotFound, "unpriced_model", fmt.Sprintf("no price is published for %s yet", id), map[string]any{"model": id})
	}
	return c.JSON(http.StatusOK, map[string]any{"data": modelInfo(m, p, ver)})
}

// caller authenticates a key for the informational endpoints.
func (s *Server) caller(c echo.Context) (Key, error) {
	secret := bearer(c.Request())
	if secret == "" {
		return Key{}, apiErr(http.StatusUnauthorized, "no_key", "missing API key: send Authorization: Bearer sk-rf-…", nil)
	}
	k, ok := s.deps.Directory.Key(commands.HashKey(secret))
	if !ok {
		return Key{}, apiErr(http.StatusUnauthorized, "bad_key", "invalid API key", nil)
	}
	if k.Revoked {
		return Key{}, apiErr(http.StatusForbidden, "key_revoked", "this API key has been revoked", nil)
	}
	return k, nil
}

// generation serves GET /api/v1/generation?id=… from the request index, for
// the caller's own account only.
func (s *Server) generation(c echo.Context) error {
	k, err := s.caller(c)
	if err != nil {
		return err
	}
	id := c.QueryParam("id")
	if id == "" {
		return apiErr(http.StatusBadRequest, "invalid_request", "query parameter id is required", nil)
	}
	g, ok := s.deps.Directory.Generation(id)
	if !ok || g.AccountID != k.AccountID {
		// Another account's request is as unknown as a missing one.
		return apiErr(http.StatusNotFound, "unknown_generation", fmt.Sprintf("generation %q not found", id), nil)
	}
	g.Currency = "NTD"
	return c.JSON(http.StatusOK, map[string]any{"data": g})
}

// keyInfo serves GET /api/v1/key: the calling key's plan, limits and usage.
func (s *Server) keyInfo(c echo.Context) error {
	k, err := s.caller(c)
	if err != nil {
		return err
	}
	a, _ := s.deps.Directory.Account(k.AccountID, k.ID, s.cfg.Now())
	data := map[string]any{
		"key_id": k.ID, "name": k.Name, "account_id": k.AccountID, "plan": k.Plan,
		"rate_limit":         map[string]any{"requests_per_minute": k.Limits.RPM, "tokens_per_minute": k.Limits.TPM},
		"models":             k.Models,
		"currency":           "NTD",
		"balance":            a.View.Balance.String(),
		"credit_limit":       a.View.CreditLimit.String(),
		"usage_this_month":   a.MonthSpend.String(),
		"is_free_tier":       false,
		"spend_limit":        nil,
		"spend_limit_period": nil,
	}
	if k.SpendLimit.IsPositive() {
		data["spend_limit"] = k.SpendLimit.String()
		data["spend_limit_period"] = k.SpendPeriod
		data["spend_this_period"] = a.KeySpend.String()
		data["spend_limit_remaining"] = k.SpendLimit.Sub(a.KeySpend).String()
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data})
}
