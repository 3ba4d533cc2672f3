package console

import (
	"context"
	"net/http"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// The admin API refuses a price left out and models the catalog does not
// know, naming them, and records nothing; "0" prices a free model.
func TestAPIPricesNeedEveryPriceAndKnownModels(t *testing.T) {
	e := newEnv(t, false)
	head := func() eventstore.Position {
		h, err := eventstore.Head(context.Background(), e.store, eventstore.Start, 100)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	_, before, _ := e.models.Prices.At(testNow)
	// The longest ID: a refusal names it whole (its excerpt cut IDs past
	// 32 characters).
	var model string
	for m := range before {
		if len(m) > len(model) || (len(m) == len(model) && m < model) {
			model = m
		}
	}
	if len(model) <= domain.MaxQuoted {
		t.Fatalf("the catalog's longest model ID %q is no longer than an excerpt", model)
	}
	was := head()
	code, body := e.call("POST", "/admin/api/prices", e.admin, map[string]any{"prices": map[string]any{model: map[string]any{"output": "200"}}})
	wantAPI(t, code, body, http.StatusBadRequest, model+": no input price")
	code, body = e.call("POST", "/admin/api/prices", e.admin, map[string]any{"prices": map[string]any{
		model: map[string]any{"input": "1", "output": "2"}, "nosuch/model": map[string]any{"input": "1", "output": "2"},
		"other/model": map[string]any{"input": "1", "output": "2"}}})
	wantAPI(t, code, body, http.StatusBadRequest, "not in the catalog: nosuch/model, other/model")
	if now := head(); now != was {
		t.Fatalf("refused price lists appended: head %+v, was %+v", now, was)
	}
	code, body = e.call("POST", "/admin/api/prices", e.admin, map[string]any{"prices": map[string]any{model: map[string]any{"input": "0", "output": "0"}}})
	wantAPI(t, code, body, http.StatusCreated, `"changed":["`+model+`"]`)
}
