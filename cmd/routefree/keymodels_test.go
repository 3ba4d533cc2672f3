package main

import (
	"encoding/json"
	"slices"
	"testing"
)

// `keys issue --models` takes what the admin API takes: model IDs of the
// catalog, spaces around the commas ignored. A model the catalog does not
// know (a typo) is refused, naming it, and records nothing, rather than
// issuing a key that can call no model.
func TestKeysIssueModelsAreCatalogModels(t *testing.T) {
	dir := storeDir(t)
	mustCLI(t, "accounts", "open", "--id", "acct_mod", "--organisation", "模型公司", "--data-dir", dir)
	refusedCLI(t, `unknown model "openai/gpt4o"`, "keys", "issue", "--account", "acct_mod", "--models", "routefree/echo,openai/gpt4o", "--data-dir", dir)
	mustCLI(t, "keys", "issue", "--account", "acct_mod", "--models", "routefree/echo, openai/gpt-4o,", "--data-dir", dir)
	var issued [][]string
	for _, line := range exportEvents(t, mustCLI(t, "events", "export", "--type", "key.issued", "--data-dir", dir)) {
		var ev struct {
			Data struct {
				Models []string `json:"models"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		issued = append(issued, ev.Data.Models)
	}
	if len(issued) != 1 || !slices.Equal(issued[0], []string{"routefree/echo", "openai/gpt-4o"}) {
		t.Fatalf("keys issued with models %q, want one with [routefree/echo openai/gpt-4o]", issued)
	}
}
