package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// GivenPrices is a price list as people write it (a price file, the admin
// API's body). Decoding it refuses a model without an input or an output
// price, so that a price left out is never taken for a free one: a free
// model says "0". Cached-input, cache-write (five-minute and one-hour) and
// reasoning prices stay optional, and left out they are not free either:
// cached and cache-written tokens bill at the input price, one-hour cache
// writes at the cache-write price, reasoning tokens at the output price.
type GivenPrices map[string]domain.ModelPrice

// givenPrice tells a price left out (nil) from a price of zero.
type givenPrice struct {
	Input        *decimal.Decimal `json:"input"`
	Output       *decimal.Decimal `json:"output"`
	CachedInput  *decimal.Decimal `json:"cached_input"`
	CacheWrite   *decimal.Decimal `json:"cache_write"`    // nil bills at Input (domain.ModelPrice)
	CacheWrite1h *decimal.Decimal `json:"cache_write_1h"` // nil bills at CacheWrite
	Reasoning    decimal.Decimal  `json:"reasoning"`      // zero bills at Output (domain.ModelPrice)
}

// UnmarshalJSON decodes {"model": {"input": "…", "output": "…", …}},
// naming every model that lacks a price.
func (p *GivenPrices) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(GivenPrices, len(raw))
	var problems, missing []string
	for m, body := range raw {
		var g givenPrice
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields() // a misspelt "input" is not a missing one
		switch err := dec.Decode(&g); {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", m, err))
		case g.Input == nil || g.Output == nil:
			if g.Input == nil {
				missing = append(missing, m+": no input price")
			}
			if g.Output == nil {
				missing = append(missing, m+": no output price")
			}
		default:
			cached := *g.Input // no cache discount unless one is given
			if g.CachedInput != nil {
				cached = *g.CachedInput
			}
			out[m] = domain.ModelPrice{Input: *g.Input, Output: *g.Output, CachedInput: cached, Reasoning: g.Reasoning,
				CacheWrite: g.CacheWrite, CacheWrite1h: g.CacheWrite1h}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		problems = append(problems, strings.Join(missing, "; ")+` (a free model's price is "0")`)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	*p = out
	return nil
}

// CheckModels refuses prices for models known does not know (the
// catalog's), naming them all: a price for a model nobody can call is a
// typo, and the list is recorded for good.
func CheckModels(prices map[string]domain.ModelPrice, known func(model string) bool) error {
	var unknown []string
	for m := range prices {
		if !known(m) {
			unknown = append(unknown, m)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return invalid("not in the catalog: %s", strings.Join(unknown, ", "))
}
