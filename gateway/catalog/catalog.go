// Package catalog is the model catalog: each model's upstreams in priority
// order and its USD list price. Upstream keys are never in the catalog: each
// upstream names the environment variable that holds its key.
package catalog

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

//go:embed default.json
var defaultJSON []byte

// Upstream is one place a model can be served from.
type Upstream struct {
	Provider string `json:"provider"` // e.g. openai, together
	Kind     string `json:"kind"`     // openai | anthropic | gemini
	BaseURL  string `json:"base_url"` // ${VAR:-default} is expanded from the environment
	Model    string `json:"model"`    // the upstream's own model name
	KeyEnv   string `json:"key_env"`  // environment variable holding the key
	// Region is where the upstream processes requests ("us", "tw", a cloud
	// region such as "asia-east1"); ${VAR} is expanded. Empty: unknown.
	Region string `json:"region,omitempty"`
	// DataPolicy is what the provider does with prompts, as its terms state.
	DataPolicy *DataPolicy `json:"data_policy,omitempty"`
	// SupportedParameters are the request parameters this upstream takes,
	// when they differ from the model's (OpenRouter's require_parameters
	// reads them). Empty: the model's.
	SupportedParameters []string `json:"supported_parameters,omitempty"`
}

// DataPolicy is a provider's handling of request data.
type DataPolicy struct {
	Training  bool `json:"training"`  // may train on prompts and completions
	Retention bool `json:"retention"` // keeps them after the request (abuse monitoring included)
}

// taiwanRegions are cloud regions in Taiwan: Google Cloud's Changhua
// region and AWS's Taipei region.
var taiwanRegions = map[string]bool{"tw": true, "asia-east1": true, "ap-east-2": true}

// InTaiwan reports whether a region is in Taiwan: "tw", "tw-…" (a
// provider's own Taiwan site) or a Taiwan cloud region.
func InTaiwan(region string) bool {
	r := strings.ToLower(strings.TrimSpace(region))
	return taiwanRegions[r] || strings.HasPrefix(r, "tw-")
}

// USDPrice is the upstream list price per million tokens. CachedInput is
// set only for providers that discount cached prompt tokens; left out
// (nil), cached tokens bill at Input, never for free. CacheWrite is set
// only for providers that charge more for prompt tokens written to their
// cache (Anthropic: 1.25 × input); left out, they bill at Input.
// CacheWrite1h is the price of writes kept for an hour (Anthropic: 2 ×
// input); left out, they bill at CacheWrite.
type USDPrice struct {
	Input        decimal.Decimal  `json:"input"`
	Output       decimal.Decimal  `json:"output"`
	CachedInput  *decimal.Decimal `json:"cached_input"`
	CacheWrite   *decimal.Decimal `json:"cache_write"`
	CacheWrite1h *decimal.Decimal `json:"cache_write_1h"`
	Reasoning    decimal.Decimal  `json:"reasoning"`
}

// cachedInput is the price of a cached prompt token: the input price
// when the provider gives no cache discount.
func (p USDPrice) cachedInput() decimal.Decimal {
	if p.CachedInput == nil {
		return p.Input
	}
	return *p.CachedInput
}

// Model is one catalog entry.
type Model struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	ContextLength       int64      `json:"context_length"`
	InputModalities     []string   `json:"input_modalities"`
	OutputModalities    []string   `json:"output_modalities"`
	SupportedParameters []string   `json:"supported_parameters"`
	USD                 USDPrice   `json:"usd_per_million"`
	Upstreams           []Upstream `json:"upstreams"`
	MaxOutput           int64      `json:"max_output,omitempty"` // cap used for holds when the request sets none
	Description         string     `json:"description,omitempty"`
	Created             string     `json:"created,omitempty"`   // release date, YYYY-MM-DD
	Tokenizer           string     `json:"tokenizer,omitempty"` // OpenRouter's tokenizer group; default from the author
	// MaxDimensions is the longest vector an embedding model gives, the
	// most a request's dimensions may ask for. 0: unknown.
	MaxDimensions int `json:"max_dimensions,omitempty"`
	// Categories are the use cases (OpenRouter's categories: programming,
	// translation…) the model is listed under by /models?category=.
	Categories []string `json:"categories,omitempty"`
	// maxOutputGiven: the catalog set max_output (the model's real output
	// limit), rather than leaving the default hold cap.
	maxOutputGiven bool
}

// OutputLimit is the most output tokens a request may ask of the model: its
// max_output when the catalog gives one, else its context length.
func (m *Model) OutputLimit() int64 {
	if m.maxOutputGiven || m.ContextLength <= 0 {
		return m.MaxOutput
	}
	return m.ContextLength
}

// CreatedUnix is the release date as Unix seconds (0 when unknown).
func (m *Model) CreatedUnix() int64 {
	t, err := time.Parse(time.DateOnly, m.Created)
	if err != nil {
		return 0
	}
	return t.Unix()
}

// tokenizers maps a model author to OpenRouter's tokenizer group.
var tokenizers = map[string]string{"openai": "GPT", "anthropic": "Claude", "google": "Gemini", "deepseek": "DeepSeek",
	"mistralai": "Mistral", "x-ai": "Grok", "qwen": "Qwen3", "cohere": "Cohere", "amazon": "Nova"}

// TokenizerGroup is the catalog's tokenizer or the one its author implies.
func (m *Model) TokenizerGroup() string {
	if m.Tokenizer != "" {
		return m.Tokenizer
	}
	author, slug, _ := strings.Cut(m.ID, "/")
	if author == "meta-llama" {
		if strings.HasPrefix(slug, "llama-4") {
			return "Llama4"
		}
		return "Llama3"
	}
	if t, ok := tokenizers[author]; ok {
		return t
	}
	return "Other"
}

// Catalog is the whole file.
type Catalog struct {
	USDToNTD decimal.Decimal `json:"usd_to_ntd"`
	Margin   decimal.Decimal `json:"margin"`
	Models   []Model         `json:"models"`
	byID     map[string]*Model
}

// Default returns the shipped catalog.
func Default() (*Catalog, error) { return Parse(defaultJSON) }

// Load reads a catalog file; an empty path gives the shipped default.
func Load(path string) (*Catalog, error) {
	if path == "" {
		return Default()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

var kinds = map[string]bool{"openai": true, "anthropic": true, "gemini": true}

// Parse decodes and validates a catalog, reporting every problem at once.
func Parse(b []byte) (*Catalog, error) {
	var c Catalog
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var errs []error
	if !c.USDToNTD.IsPositive() {
		errs = append(errs, errors.New("usd_to_ntd must be positive"))
	}
	if !c.Margin.GreaterThan(decimal.NewFromInt(-1)) {
		// Prices are USD × rate × (1 + margin): at -1 every model is free.
		errs = append(errs, errors.New("margin must be above -1 (0.05 = 5 %)"))
	}
	c.byID = make(map[string]*Model, len(c.Models))
	for i := range c.Models {
		m := &c.Models[i]
		if !strings.Contains(m.ID, "/") {
			errs = append(errs, fmt.Errorf("model %q: id must be author/slug", m.ID))
		}
		if _, dup := c.byID[m.ID]; dup {
			errs = append(errs, fmt.Errorf("model %q listed twice", m.ID))
		}
		if len(m.Upstreams) == 0 {
			errs = append(errs, fmt.Errorf("model %q has no upstream", m.ID))
		}
		for j, u := range m.Upstreams {
			if !kinds[u.Kind] {
				errs = append(errs, fmt.Errorf("model %q upstream %d: kind %q is not openai, anthropic or gemini", m.ID, j, u.Kind))
			}
			if u.Model == "" || u.KeyEnv == "" {
				errs = append(errs, fmt.Errorf("model %q upstream %d: model and key_env are required", m.ID, j))
			}
		}
		if m.USD.Input.IsNegative() || m.USD.Output.IsNegative() || (m.USD.CachedInput != nil && m.USD.CachedInput.IsNegative()) ||
			(m.USD.CacheWrite != nil && m.USD.CacheWrite.IsNegative()) || (m.USD.CacheWrite1h != nil && m.USD.CacheWrite1h.IsNegative()) ||
			m.USD.Reasoning.IsNegative() {
			errs = append(errs, fmt.Errorf("model %q: negative price", m.ID))
		}
		m.maxOutputGiven = m.MaxOutput > 0
		if m.Created != "" && m.CreatedUnix() == 0 {
			errs = append(errs, fmt.Errorf("model %q: created %q is not YYYY-MM-DD", m.ID, m.Created))
		}
		for _, cat := range m.Categories {
			if !slices.Contains(Categories, cat) {
				errs = append(errs, fmt.Errorf("model %q: category %q is not one of %s", m.ID, cat, strings.Join(Categories, ", ")))
			}
		}
		if m.MaxDimensions < 0 {
			errs = append(errs, fmt.Errorf("model %q: max_dimensions must not be negative", m.ID))
		}
		if m.MaxOutput == 0 {
			m.MaxOutput = min(m.ContextLength, 32768)
		}
		listStructuredOutputs(m)
		c.byID[m.ID] = m
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return &c, nil
}

// Categories are OpenRouter's use-case categories of its model listing
// (GET /models?category=), the values a model's categories may take.
var Categories = []string{"programming", "roleplay", "marketing", "marketing/seo", "technology", "science",
	"translation", "legal", "finance", "health", "trivia", "academia"}

// StructuredOutputs is OpenRouter's name, in supported_parameters, for
// taking response_format json_schema: an answer held to the schema.
const StructuredOutputs = "structured_outputs"

// listStructuredOutputs credits structured outputs where they are taken.
// An Anthropic or Gemini upstream that takes response_format takes them:
// the gateway sends the schema as the provider's own constrained output
// (Anthropic's output_config.format or a forced tool, Gemini's
// responseSchema). An OpenAI-shaped host takes them when its entry (or its
// model's) lists them. The model lists them when one of its upstreams
// takes them, as OpenRouter lists a model's parameters; an upstream that
// does not take them gets the model's list as it was for its own, so that
// require_parameters does not credit it with them.
func listStructuredOutputs(m *Model) {
	model := m.SupportedParameters
	if slices.Contains(model, StructuredOutputs) {
		return
	}
	var derived bool
	for i := range m.Upstreams {
		u := &m.Upstreams[i]
		params := u.SupportedParameters
		if params == nil {
			params = model
		}
		switch {
		case slices.Contains(params, StructuredOutputs):
			derived = true
		case (u.Kind == "anthropic" || u.Kind == "gemini") && slices.Contains(params, "response_format"):
			u.SupportedParameters = append(slices.Clip(params), StructuredOutputs)
			derived = true
		}
	}
	if !derived {
		return
	}
	for i := range m.Upstreams {
		if m.Upstreams[i].SupportedParameters == nil {
			m.Upstreams[i].SupportedParameters = append([]string{}, model...)
		}
	}
	m.SupportedParameters = append(slices.Clip(model), StructuredOutputs)
}

// Get returns a model by ID.
func (c *Catalog) Get(id string) (*Model, bool) { m, ok := c.byID[id]; return m, ok }

// IDs lists model IDs sorted.
func (c *Catalog) IDs() []string {
	ids := make([]string, 0, len(c.Models))
	for _, m := range c.Models {
		ids = append(ids, m.ID)
	}
	sort.Strings(ids)
	return ids
}

// NTDPrices derives the NTD price list (per million tokens) from the USD
// prices, the exchange rate and the margin.
func (c *Catalog) NTDPrices() map[string]domain.ModelPrice {
	out := make(map[string]domain.ModelPrice, len(c.Models))
	for _, m := range c.Models {
		conv := func(d decimal.Decimal) decimal.Decimal { return domain.DerivePrice(d, c.USDToNTD, c.Margin) }
		p := domain.ModelPrice{Input: conv(m.USD.Input), Output: conv(m.USD.Output), CachedInput: conv(m.USD.cachedInput()), Reasoning: conv(m.USD.Reasoning)}
		if m.USD.CacheWrite != nil {
			w := conv(*m.USD.CacheWrite)
			p.CacheWrite = &w
		}
		if m.USD.CacheWrite1h != nil {
			w := conv(*m.USD.CacheWrite1h)
			p.CacheWrite1h = &w
		}
		out[m.ID] = p
	}
	return out
}

var envRef = regexp.MustCompile(`\$\{([A-Z0-9_]+)(:-([^}]*))?\}`)

// EnvRefs names the variables s refers to, in order.
func EnvRefs(s string) []string {
	var out []string
	for _, m := range envRef.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// EnvVars names every variable the catalog reads: its upstreams' keys and
// the variables their base URLs and regions refer to.
func (c *Catalog) EnvVars() []string {
	var out []string
	for _, m := range c.Models {
		for _, u := range m.Upstreams {
			for _, v := range append([]string{u.KeyEnv}, append(EnvRefs(u.BaseURL), EnvRefs(u.Region)...)...) {
				if !slices.Contains(out, v) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// Expand resolves ${VAR} and ${VAR:-default} against getenv.
func Expand(s string, getenv func(string) string) string {
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v := getenv(m[1]); v != "" {
			return v
		}
		return m[3]
	})
}
