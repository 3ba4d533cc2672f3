package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A price left out is refused, never read as free; "0" is a price.
func TestGivenPricesNeedInputAndOutput(t *testing.T) {
	for body, want := range map[string]string{
		`{"a/one":{"output":"200"}}`:                           "a/one: no input price",
		`{"a/one":{"input":"1"},"a/two":{"input":null}}`:       "a/one: no output price; a/two: no input price; a/two: no output price",
		`{"a/one":{"inptu":"1","output":"2"}}`:                 `unknown field "inptu"`,
		`{"a/one":{"input":"1","output":"2","reasoning":"x"}}`: "a/one: ",
	} {
		var p GivenPrices
		if err := json.Unmarshal([]byte(body), &p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", body, err, want)
		}
	}
	var p GivenPrices
	if err := json.Unmarshal([]byte(`{"a/free":{"input":"0","output":"0"},"a/paid":{"input":"1.5","output":"6","cached_input":"0.5"}}`), &p); err != nil {
		t.Fatal(err)
	}
	if !p["a/free"].Input.IsZero() || !p["a/paid"].Output.Equal(dec("6")) || !p["a/paid"].CachedInput.Equal(dec("0.5")) || !p["a/paid"].Reasoning.IsZero() {
		t.Fatalf("decoded %+v", p)
	}
}

func TestCheckModelsNamesEveryUnknownModel(t *testing.T) {
	known := func(m string) bool { return m == "a/known" }
	err := CheckModels(GivenPrices{"a/known": {}, "z/typo": {}, "b/typo": {}}, known)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not in the catalog: b/typo, z/typo") {
		t.Fatalf("CheckModels: %v", err)
	}
	if err := CheckModels(GivenPrices{"a/known": {}}, known); err != nil {
		t.Fatalf("a known model refused: %v", err)
	}
}

// A cached-input price left out is not a free one: cached tokens then bill
// at the input price (no cache discount), so a file that amends a model's
// input and output prices never gives its cached tokens away. "0" given
// makes them free.
func TestCachedInputLeftOutBillsAtInput(t *testing.T) {
	var p GivenPrices
	if err := json.Unmarshal([]byte(`{"a/plain":{"input":"80","output":"320"},"a/free":{"input":"80","output":"320","cached_input":"0"}}`), &p); err != nil {
		t.Fatal(err)
	}
	cached := domain.Usage{Input: 1_000_000, Cached: 1_000_000}
	if got := p["a/plain"].Cost(cached); !got.Equal(dec("80")) {
		t.Errorf("a million cached tokens without a cached price cost NT$%s, want NT$80 (the input price)", got)
	}
	if got := p["a/free"].Cost(cached); !got.IsZero() {
		t.Errorf("a million cached tokens at a cached price of 0 cost NT$%s", got)
	}
}

// A price beyond MaxPrice is a typo (an exponent, a misplaced point): the
// credit hold of every request for the model would exceed what the
// admission ledger can hold, and each would fail with a 503 that clients
// retry. It is refused, naming the model and the bound, and nothing is
// recorded; MaxPrice itself is taken.
func TestAbsurdPricesAreRefused(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	for _, p := range []domain.ModelPrice{
		price("1e30", "1"), price("1", "1000000.01"),
		{Input: dec("1"), Output: dec("1"), CachedInput: dec("2e6")},
		{Input: dec("1"), Output: dec("1"), Reasoning: dec("99999999")},
		{Input: dec("1"), Output: dec("1"), CacheWrite: ptr(dec("1e7"))},
		{Input: dec("1"), Output: dec("1"), CacheWrite1h: ptr(dec("1e7"))},
	} {
		n := len(all(t, h))
		_, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/typo": p}})
		wantRefused(t, h, n, err, ErrInvalid, "a/typo")
		if !strings.Contains(err.Error(), "1,000,000") {
			t.Errorf("%+v: %v does not name the bound", p, err)
		}
	}
	if _, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/dear": price("1000000", "1000000")}}); err != nil {
		t.Fatalf("the bound itself: %v", err)
	}
}

// A price has at most MaxPricePlaces decimal places: each one more is one
// more in every request's cost, balance and usage event of the model. The
// bound itself is taken, one place past it refused, whichever price has it.
func TestPricePlacesAreBounded(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	fine := "0.000000000001" // 12 places
	if _, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/fine": price(fine, fine)}}); err != nil {
		t.Fatalf("a price of %s: %v", fine, err)
	}
	finer := "0.0000000000015" // 13 places
	for _, p := range []domain.ModelPrice{
		price(finer, "1"), price("1", finer),
		{Input: dec("1"), Output: dec("1"), CachedInput: dec(finer)},
		{Input: dec("1"), Output: dec("1"), CacheWrite: ptr(dec(finer))},
	} {
		n := len(all(t, h))
		_, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/finer": p}})
		wantRefused(t, h, n, err, ErrInvalid, "at most 12 decimal places")
	}
}

// A cache-write price is taken from a price file and bills the tokens
// written to the prompt cache; left out, they bill at the input price, as
// before the price existed.
func TestCacheWritePriceFromAFile(t *testing.T) {
	var p GivenPrices
	if err := json.Unmarshal([]byte(`{"a/claude":{"input":"97.5","output":"487.5","cached_input":"9.75","cache_write":"121.875"},"a/plain":{"input":"80","output":"320"}}`), &p); err != nil {
		t.Fatal(err)
	}
	written := domain.Usage{Input: 1_000_000, CacheWrite: 1_000_000}
	if got := p["a/claude"].Cost(written); !got.Equal(dec("121.875")) {
		t.Errorf("a million tokens written to the cache cost NT$%s, want NT$121.875", got)
	}
	if got := p["a/plain"].Cost(written); !got.Equal(dec("80")) {
		t.Errorf("without a cache-write price they cost NT$%s, want NT$80 (the input price)", got)
	}
	if p["a/plain"].CacheWrite != nil {
		t.Errorf("a price left out was recorded: %s", p["a/plain"].CacheWrite)
	}
}

// A one-hour cache-write price is taken from a price file and bills the
// tokens written to the cache for an hour; left out, they bill at the
// cache-write price, as before the price existed.
func TestCacheWrite1hPriceFromAFile(t *testing.T) {
	var p GivenPrices
	if err := json.Unmarshal([]byte(`{"a/claude":{"input":"97.5","output":"487.5","cache_write":"121.875","cache_write_1h":"195"},"a/old":{"input":"97.5","output":"487.5","cache_write":"121.875"}}`), &p); err != nil {
		t.Fatal(err)
	}
	hour := domain.Usage{Input: 1_000_000, CacheWrite: 1_000_000, CacheWrite1h: 1_000_000}
	if got := p["a/claude"].Cost(hour); !got.Equal(dec("195")) {
		t.Errorf("a million tokens written for an hour cost NT$%s, want NT$195", got)
	}
	if got := p["a/old"].Cost(hour); !got.Equal(dec("121.875")) {
		t.Errorf("without a one-hour price they cost NT$%s, want NT$121.875 (the cache-write price)", got)
	}
	if p["a/old"].CacheWrite1h != nil {
		t.Errorf("a price left out was recorded: %s", p["a/old"].CacheWrite1h)
	}
}

// A price list's refusal names each model whole, however long its ID (a
// catalog's run to 40 characters and more), and cuts only what could be
// hostile: an ID past MaxModelID, and a list of problems past ten.
func TestPriceRefusalsNameModelsWhole(t *testing.T) {
	long := "meta-llama/llama-3.1-405b-instruct-turbo-preview"
	var p GivenPrices
	err := json.Unmarshal([]byte(`{"`+long+`":{"output":"2"}}`), &p)
	var pe *PricesError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), long+": no input price") {
		t.Fatalf("refusal %v does not name %s whole", err, long)
	}
	huge := strings.Repeat("x", 10_000)
	many := map[string]any{huge: map[string]string{"output": "1"}}
	for i := range 50 {
		many[fmt.Sprintf("m/%02d", i)] = map[string]string{"output": "1"}
	}
	b, _ := json.Marshal(many)
	err = json.Unmarshal(b, &p)
	if err == nil || len(err.Error()) > 2000 || strings.Contains(err.Error(), strings.Repeat("x", MaxModelID+1)) || !strings.Contains(err.Error(), "and 41 more") {
		t.Fatalf("refusal of 51 models, one of 10,000 characters: %d bytes: %.300s", len(err.Error()), err)
	}
}

// A price is written plainly, as every other amount: "1e3", "+5" or " 5"
// in a price file or POST /admin/api/prices is refused naming its model
// and field, where it was read as NT$1,000 per million tokens.
func TestPricesArePlain(t *testing.T) {
	for _, sent := range []string{`"1e3"`, `1e3`, `"+5"`, `" 5"`} {
		for _, field := range []string{"input", "output", "cached_input", "cache_write", "cache_write_1h", "reasoning"} {
			body := map[string]string{"input": `"1"`, "output": `"2"`}
			body[field] = sent
			var parts []string
			for k, v := range body {
				parts = append(parts, fmt.Sprintf("%q:%s", k, v))
			}
			var p GivenPrices
			err := json.Unmarshal([]byte(`{"a/one":{`+strings.Join(parts, ",")+`}}`), &p)
			if err == nil || !strings.Contains(err.Error(), "a/one: ") || !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), "written plainly") {
				t.Errorf("%s %s: %v, want a refusal naming a/one and %s", field, sent, err, field)
			}
		}
	}
	var p GivenPrices
	if err := json.Unmarshal([]byte(`{"a/one":{"input":2.5,"output":"10","reasoning":"12.125"}}`), &p); err != nil || !p["a/one"].Reasoning.Equal(dec("12.125")) {
		t.Fatalf("plain prices: %v %+v", err, p)
	}
}
