package domain

import "testing"

// A number with a digit left out, or a letter, is named as not 8 digits;
// one with a digit mistyped as failing its checksum; the consumers'
// placeholder, whose checksum passes, as what it is.
func TestTaxIDProblem(t *testing.T) {
	for ban, want := range map[string]string{
		"04595257":  "",
		"0459525":   "is not 8 digits",
		"045952577": "is not 8 digits",
		"0459525A":  "is not 8 digits",
		"04595258":  "fails its checksum",
		"00000000":  consumerProblem,
	} {
		if got := TaxIDProblem(ban); got != want {
			t.Errorf("TaxIDProblem(%q) = %q, want %q", ban, got, want)
		}
	}
}
