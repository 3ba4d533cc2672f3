package catalog

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestDefaultCatalogIsValidAndBroad(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Models) < 30 {
		t.Fatalf("default catalog has %d models, want 30+", len(c.Models))
	}
	authors := map[string]bool{}
	for _, id := range c.IDs() {
		authors[strings.SplitN(id, "/", 2)[0]] = true
	}
	for _, a := range []string{"openai", "anthropic", "google", "deepseek", "meta-llama", "mistralai", "x-ai"} {
		if !authors[a] {
			t.Errorf("no model from %s", a)
		}
	}
	p := c.NTDPrices()["openai/gpt-4.1"]
	// 2 USD × 32.5 × 1.05 = 68.25 NTD per million input tokens.
	if p.Input.String() != "68.25" {
		t.Fatalf("gpt-4.1 input NTD price = %s, want 68.25", p.Input)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`{"usd_to_ntd":"0","models":[{"id":"nope","created":"4/14/2025","max_dimensions":-1,"categories":["cooking"],"upstreams":[{"kind":"x"}]}]}`))
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"usd_to_ntd", "author/slug", "kind \"x\"", "key_env", "YYYY-MM-DD", "max_dimensions", "category \"cooking\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "x"}
	get := func(k string) string { return env[k] }
	if got := Expand("${A:-d}/v1", get); got != "x/v1" {
		t.Fatal(got)
	}
	if got := Expand("${B:-http://h}/v1", get); got != "http://h/v1" {
		t.Fatal(got)
	}
	if got := Expand("${B}", get); got != "" {
		t.Fatal(got)
	}
}

// The shipped catalog says, for OpenRouter's /models and /endpoints, when
// each real model came out, where each upstream runs and what it does with
// request data.
func TestDefaultCatalogOpenRouterFacts(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	dated := 0
	for _, m := range c.Models {
		if m.Created != "" {
			dated++
			if m.CreatedUnix() < 1_600_000_000 {
				t.Errorf("%s: created %q", m.ID, m.Created)
			}
		}
		if m.TokenizerGroup() == "Other" && !strings.HasPrefix(m.ID, "routefree/") {
			t.Errorf("%s: no tokenizer group", m.ID)
		}
		for _, u := range m.Upstreams {
			if u.Region == "" || u.DataPolicy == nil {
				t.Errorf("%s upstream %s: region %q, data policy %v", m.ID, u.Provider, u.Region, u.DataPolicy)
			}
		}
	}
	if dated < 30 {
		t.Errorf("%d models with a release date, want 30+", dated)
	}
	gpt, _ := c.Get("openai/gpt-4.1")
	if gpt.CreatedUnix() != 1744588800 || gpt.TokenizerGroup() != "GPT" { // 2025-04-14
		t.Errorf("gpt-4.1: created %d, tokenizer %s", gpt.CreatedUnix(), gpt.TokenizerGroup())
	}
	scout, _ := c.Get("meta-llama/llama-4-scout")
	if scout.TokenizerGroup() != "Llama4" {
		t.Errorf("llama-4-scout tokenizer %s", scout.TokenizerGroup())
	}
	echo, _ := c.Get("routefree/echo")
	if got := Expand(echo.Upstreams[0].Region, func(string) string { return "" }); got != "local" {
		t.Errorf("echo region %q", got)
	}
}

// Each shipped embedding model gives its longest vector, as its provider
// documents it, so that a request for more is refused before the upstream.
func TestDefaultCatalogEmbeddingDimensions(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"openai/text-embedding-3-small": 1536, "openai/text-embedding-3-large": 3072,
		"google/gemini-embedding-001": 3072} {
		if m, ok := c.Get(id); !ok || m.MaxDimensions != want {
			t.Errorf("%s: max_dimensions %v, want %d", id, m, want)
		}
	}
}

func TestInTaiwan(t *testing.T) {
	for region, want := range map[string]bool{"tw": true, "TW": true, "asia-east1": true, "ap-east-2": true, "tw-taipei": true,
		"us": false, "asia-east2": false, "asia-northeast1": false, "": false, "local": false, "twn": false} {
		if got := InTaiwan(region); got != want {
			t.Errorf("InTaiwan(%q) = %v", region, got)
		}
	}
}

// Anthropic charges 1.25 × its input price for prompt tokens written to
// its cache for five minutes and 2 × for an hour, so every Claude model's
// price says so;
// no other provider of the catalog charges for writing.
func TestDefaultCatalogPricesClaudeCacheWrites(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	prices := c.NTDPrices()
	claude := 0
	for _, m := range c.Models {
		p := prices[m.ID]
		if !strings.HasPrefix(m.ID, "anthropic/") {
			if m.USD.CacheWrite != nil || m.USD.CacheWrite1h != nil {
				t.Errorf("%s: cache-write price %v, %v", m.ID, m.USD.CacheWrite, m.USD.CacheWrite1h)
			}
			continue
		}
		claude++
		if m.USD.CacheWrite == nil || !m.USD.CacheWrite.Equal(m.USD.Input.Mul(decimal.RequireFromString("1.25"))) {
			t.Errorf("%s: cache write %v for input %s, want 1.25 ×", m.ID, m.USD.CacheWrite, m.USD.Input)
		}
		if m.USD.CacheWrite1h == nil || !m.USD.CacheWrite1h.Equal(m.USD.Input.Mul(decimal.RequireFromString("2"))) {
			t.Errorf("%s: one-hour cache write %v for input %s, want 2 ×", m.ID, m.USD.CacheWrite1h, m.USD.Input)
		}
		if p.CacheWrite1h == nil || !p.CacheWrite1h.GreaterThan(*p.CacheWrite) {
			t.Errorf("%s: NTD one-hour cache write %v, cache write %v", m.ID, p.CacheWrite1h, p.CacheWrite)
		}
		if p.CacheWrite == nil || !p.CacheWrite.GreaterThan(p.Input) {
			t.Errorf("%s: NTD cache write %v, input %s", m.ID, p.CacheWrite, p.Input)
		}
	}
	if claude == 0 {
		t.Fatal("no Claude model in the catalog")
	}
}

// A catalog whose margin takes prices to zero or below, or with a
// negative reasoning price, is refused when it is read: serve would
// otherwise publish every model free at first start, or fail to start
// on the price list's refusal rather than the catalog's.
func TestParseRefusesPricesAtOrBelowZero(t *testing.T) {
	model := `{"id":"acme/one","usd_per_million":{"input":"1","output":"2"%s},"upstreams":[{"provider":"a","kind":"openai","model":"one","key_env":"K"}]}`
	for name, c := range map[string]string{
		"margin -1":          `{"usd_to_ntd":"32.5","margin":"-1","models":[` + fmt.Sprintf(model, "") + `]}`,
		"negative reasoning": `{"usd_to_ntd":"32.5","margin":"0.05","models":[` + fmt.Sprintf(model, `,"reasoning":"-1"`) + `]}`,
	} {
		if _, err := Parse([]byte(c)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Parse([]byte(`{"usd_to_ntd":"32.5","margin":"-0.1","models":[` + fmt.Sprintf(model, "") + `]}`)); err != nil {
		t.Errorf("a 10 %% discount refused: %v", err)
	}
}

// OpenRouter lists structured_outputs among a model's supported_parameters
// when it takes response_format json_schema, and /models?supported_parameters=
// structured_outputs filters on it. The gateway gives a json_schema to
// Anthropic and Gemini as their own constrained output, so an upstream of
// those kinds that takes response_format takes structured outputs; an
// OpenAI-shaped host takes them when its catalog entry says so. The model
// lists it when one of its upstreams takes it.
func TestStructuredOutputsListedWhereUpstreamsTakeThem(t *testing.T) {
	c, err := Parse([]byte(`{"usd_to_ntd":"32","margin":"0","models":[
		{"id":"a/claude","supported_parameters":["tools","response_format"],"upstreams":[{"kind":"anthropic","model":"c","key_env":"K"}]},
		{"id":"g/gemini","supported_parameters":["response_format"],"upstreams":[{"kind":"gemini","model":"g","key_env":"K"}]},
		{"id":"o/plain","supported_parameters":["response_format"],"upstreams":[{"kind":"openai","model":"o","key_env":"K"}]},
		{"id":"o/strict","supported_parameters":["response_format","structured_outputs"],"upstreams":[{"kind":"openai","model":"o","key_env":"K"}]},
		{"id":"a/nojson","supported_parameters":["tools"],"upstreams":[{"kind":"anthropic","model":"c","key_env":"K"}]},
		{"id":"m/mixed","supported_parameters":["response_format"],"upstreams":[
			{"provider":"host","kind":"openai","model":"m","key_env":"K"},
			{"provider":"google","kind":"gemini","model":"m","key_env":"K"},
			{"provider":"fw","kind":"openai","model":"m","key_env":"K","supported_parameters":["response_format","structured_outputs"]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	takes := func(params []string) bool {
		for _, p := range params {
			if p == "structured_outputs" {
				return true
			}
		}
		return false
	}
	for id, want := range map[string]bool{"a/claude": true, "g/gemini": true, "o/plain": false, "o/strict": true, "a/nojson": false, "m/mixed": true} {
		m, _ := c.Get(id)
		if got := takes(m.SupportedParameters); got != want {
			t.Errorf("%s lists structured_outputs: %v, want %v (%v)", id, got, want, m.SupportedParameters)
		}
	}
	// The mixed model's OpenAI-shaped host that does not take them is not
	// credited with them (require_parameters reads each upstream's list).
	m, _ := c.Get("m/mixed")
	for i, want := range []bool{false, true, true} {
		u := m.Upstreams[i]
		params := u.SupportedParameters
		if params == nil {
			params = m.SupportedParameters
		}
		if got := takes(params); got != want {
			t.Errorf("m/mixed upstream %d (%s) takes structured_outputs: %v, want %v (%v)", i, u.Provider, got, want, params)
		}
	}

	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"openai/gpt-4o", "openai/gpt-4.1", "openai/gpt-5", "openai/o3",
		"anthropic/claude-sonnet-4.5", "anthropic/claude-haiku-4.5", "google/gemini-2.5-flash", "google/gemini-2.0-flash"} {
		if m, ok := def.Get(id); !ok || !takes(m.SupportedParameters) {
			t.Errorf("default catalog: %s does not list structured_outputs", id)
		}
	}
}

// The shipped Gemini chat models say they take audio and video, as the
// gateway sends Gemini both (input_audio and OpenRouter's video_url
// parts) and OpenRouter lists them: /models?input_modalities=video finds
// them.
func TestShippedGeminiModelsTakeAudioAndVideo(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range c.IDs() {
		m, _ := c.Get(id)
		if !strings.HasPrefix(id, "google/gemini-") || !slices.Contains(m.OutputModalities, "text") {
			continue
		}
		n++
		for _, in := range []string{"audio", "video"} {
			if !slices.Contains(m.InputModalities, in) {
				t.Errorf("%s: input_modalities %v lack %s", id, m.InputModalities, in)
			}
		}
	}
	if n == 0 {
		t.Fatal("no Gemini chat model in the catalog")
	}
}
