package server

import (
	"net/http"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// paramProbes give, for each parameter a shipped model may list, a request
// fragment setting it and the field its value reaches the upstream as
// (Mistral's names: max_tokens for max_completion_tokens, random_seed for
// seed, response_format for structured_outputs).
var paramProbes = map[string]struct{ fragment, mistralField string }{
	"max_tokens":            {`"max_tokens":40,`, "max_tokens"},
	"max_completion_tokens": {`"max_completion_tokens":40,`, "max_tokens"},
	"temperature":           {`"temperature":0.4,`, "temperature"},
	"top_p":                 {`"top_p":0.9,`, "top_p"},
	"stop":                  {`"stop":["END"],`, "stop"},
	"seed":                  {`"seed":7,`, "random_seed"},
	"tools":                 {`"tools":[` + probeTool + `],`, "tools"},
	"tool_choice":           {`"tools":[` + probeTool + `],"tool_choice":"auto",`, "tool_choice"},
	"response_format":       {`"response_format":{"type":"json_object"},`, "response_format"},
	"structured_outputs":    {`"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object"}}},`, "response_format"},
	"user":                  {`"user":"u-1",`, "user"},
	"stream":                {`"stream":true,`, "stream"},
	"n":                     {`"n":1,`, "n"},
	"frequency_penalty":     {`"frequency_penalty":0.1,`, "frequency_penalty"},
	"presence_penalty":      {`"presence_penalty":0.1,`, "presence_penalty"},
}

const probeTool = `{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}`

// The shipped catalog's supported_parameters, which /models shows clients
// and require_parameters routes by, claim only what reaches the provider:
// every parameter a Mistral upstream lists (its own list, or its model's)
// goes out to Mistral's API, under Mistral's name for it.
func TestShippedMistralParametersReachMistral(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	models := map[string][]upstreamSpec{}
	params := map[string][]string{}
	for _, m := range cat.Models {
		for _, u := range m.Upstreams {
			if u.Provider != "mistral" {
				continue
			}
			ps := u.SupportedParameters
			if ps == nil {
				ps = m.SupportedParameters
			}
			models[m.ID] = []upstreamSpec{{fake: "mistral", kind: u.Kind, model: u.Model, params: ps}}
			params[m.ID] = ps
		}
	}
	if len(models) == 0 {
		t.Fatal("the shipped catalog has no Mistral upstream")
	}
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise, models: models, params: params,
		scripts: map[string]providertest.Script{"mistral": {Text: "ok", Mistral: true}}})
	for id, ps := range params {
		for _, p := range ps {
			probe, ok := paramProbes[p]
			if !ok {
				t.Errorf("%s lists %q, which this test has no probe for", id, p)
				continue
			}
			resp, b := h.post(`{"model":"` + id + `",` + probe.fragment + `"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s with %s: %d %s", id, p, resp.StatusCode, b)
				continue
			}
			if _, ok := wire(t, h.fakes["mistral"].Last())[probe.mistralField]; !ok {
				t.Errorf("%s lists %q for Mistral, but Mistral never gets it (no %s)", id, p, probe.mistralField)
			}
		}
	}
}
