package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/internal/jsonkind"
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
	Input        *Amount `json:"input"`
	Output       *Amount `json:"output"`
	CachedInput  *Amount `json:"cached_input"`
	CacheWrite   *Amount `json:"cache_write"`    // nil bills at Input (domain.ModelPrice)
	CacheWrite1h *Amount `json:"cache_write_1h"` // nil bills at CacheWrite
	Reasoning    Amount  `json:"reasoning"`      // zero bills at Output (domain.ModelPrice)
}

// MaxModelID bounds the model IDs a price list's refusal repeats whole:
// the catalog's are far shorter, and a longer one is no model's.
const MaxModelID = 100

// maxPriceProblems bounds the problems one refusal lists.
const maxPriceProblems = 10

// PricesError is a price list's refusal. Its message names each model
// whole (cut past MaxModelID) and at most maxPriceProblems problems: it
// is bounded already, and shown as it is.
type PricesError struct{ msg string }

func (e *PricesError) Error() string { return e.msg }

// orNil is a price given, or nil for one left out.
func (a *Amount) orNil() *decimal.Decimal {
	if a == nil {
		return nil
	}
	return &a.Decimal
}

// ShownModelID is a model ID as a refusal names it: whole up to
// MaxModelID characters, cut past them.
func ShownModelID(m string) string {
	if utf8.RuneCountInString(m) <= MaxModelID {
		return m
	}
	r := []rune(m)
	return string(r[:MaxModelID]) + "…"
}

// UnmarshalJSON decodes {"model": {"input": "…", "output": "…", …}},
// naming every model that lacks a price.
func (p *GivenPrices) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(GivenPrices, len(raw))
	var problems []string
	missing := false
	for m, body := range raw {
		var g givenPrice
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields() // a misspelt "input" is not a missing one
		name := ShownModelID(m)
		switch err := dec.Decode(&g); {
		case err != nil:
			var ute *json.UnmarshalTypeError
			if errors.As(err, &ute) && ute.Field != "" {
				err = fmt.Errorf("%s must be %s, not %s", ute.Field, jsonkind.Of(ute.Type), domain.Excerpt(ute.Value))
			}
			problems = append(problems, fmt.Sprintf("%s: %s", name, domain.ExcerptWords(err.Error())))
		case g.Input == nil || g.Output == nil:
			missing = true
			if g.Input == nil {
				problems = append(problems, name+": no input price")
			}
			if g.Output == nil {
				problems = append(problems, name+": no output price")
			}
		default:
			cached := g.Input.Decimal // no cache discount unless one is given
			if g.CachedInput != nil {
				cached = g.CachedInput.Decimal
			}
			out[m] = domain.ModelPrice{Input: g.Input.Decimal, Output: g.Output.Decimal, CachedInput: cached, Reasoning: g.Reasoning.Decimal,
				CacheWrite: g.CacheWrite.orNil(), CacheWrite1h: g.CacheWrite1h.orNil()}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		if n := len(problems); n > maxPriceProblems {
			problems = append(problems[:maxPriceProblems], fmt.Sprintf("and %d more", n-maxPriceProblems))
		}
		msg := strings.Join(problems, "; ")
		if missing {
			msg += ` (a free model's price is "0")`
		}
		return &PricesError{msg: msg}
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
