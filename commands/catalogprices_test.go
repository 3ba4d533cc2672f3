package commands

import (
	"context"
	"testing"

	"github.com/routefree/routefree/gateway/catalog"
)

// A catalog whose exchange rate and margin have four decimals, like a
// bank's rate, derives prices that a list takes: serve publishes them at
// first start and prices publish --from-catalog again, and both refused
// them for a 13th decimal place, so serve did not start.
func TestCatalogPricesWithFineRateArePublishable(t *testing.T) {
	cat, err := catalog.Parse([]byte(`{"usd_to_ntd":"32.1234","margin":"0.0525","models":[{"id":"acme/tiny",
		"usd_per_million":{"input":"0.000123","output":"0.6","cached_input":"0.0000123"},
		"upstreams":[{"provider":"a","kind":"openai","base_url":"http://127.0.0.1:1","model":"tiny","key_env":"A_KEY"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	prices := cat.NTDPrices()
	h := newHandler(t)
	if _, err := h.PublishPriceList(context.Background(), PriceList{Prices: prices}); err != nil {
		t.Fatalf("the catalog's own prices refused: %v", err)
	}
	// 0.000123 × 32.1234 × 1.0525 = 0.0041586150555, half up to 12 places.
	if got := prices["acme/tiny"].Input.String(); got != "0.004158615056" {
		t.Fatalf("input price %s, want 0.004158615056", got)
	}
}
