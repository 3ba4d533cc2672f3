package catalog

import (
	"strings"
	"testing"
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
	_, err := Parse([]byte(`{"usd_to_ntd":"0","models":[{"id":"nope","upstreams":[{"kind":"x"}]}]}`))
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"usd_to_ntd", "author/slug", "kind \"x\"", "key_env"} {
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
