package commands

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
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
