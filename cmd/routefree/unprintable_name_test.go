package main

import (
	"strings"
	"testing"
)

// An organisation typed with a right-to-left override was refused with
// the override written into the message, so the terminal laid the rest of
// the line out backwards ("…which invoices cannot print" read reversed).
// The refusal names such a character by its code point alone.
func TestRefusedOrganisationNamesAnOverrideByCodePoint(t *testing.T) {
	store := []string{"--data-dir", storeDir(t)}
	for _, org := range []string{"好公司\u202e司公壞", "好公司\u2066司"} {
		code, _, errs := cli(t, append([]string{"accounts", "open", "--id", "acct_bidi", "--organisation", org}, store...)...)
		if code == 0 {
			t.Fatalf("%q: accepted", org)
		}
		if !strings.Contains(errs, "which invoices cannot print") || !strings.Contains(errs, "U+20") {
			t.Errorf("%q: %q does not name the character", org, errs)
		}
		if strings.ContainsAny(errs, "\u202e\u2066") {
			t.Errorf("%q: the refusal writes the character out: %q", org, errs)
		}
	}
}
