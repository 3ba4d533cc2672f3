package domain

import (
	"strings"
	"testing"
)

func TestInvoiceCarrierFormats(t *testing.T) {
	for _, c := range []struct {
		carrier, donation string
		ok                bool
		why               string
	}{
		{"/ABC+-.1", "", true, ""},
		{"/abc1234", "", true, ""}, // upper-cased at the door
		{" /AB12345 ", "", true, ""},
		{"AB12345678901234", "", true, ""},
		{"/09AZ.+-", "", true, ""},         // every end of the character ranges
		{"ZA12345678901234", "", true, ""}, // first letter Z, second A
		{"AZ12345678901234", "", true, ""},
		{"/09AZ.+[", "", false, "mobile barcode"},  // "[" follows Z
		{"/09AZ.+/", "", false, "mobile barcode"},  // "/" precedes 0
		{"/09AZ.+:", "", false, "mobile barcode"},  // ":" follows 9
		{"[A12345678901234", "", false, "citizen"}, // "[" follows Z
		{"A[12345678901234", "", false, "citizen"},
		{"A@12345678901234", "", false, "citizen"}, // "@" precedes A
		{"", "168", true, ""},
		{"", "1234567", true, ""},
		{"", "", true, ""},
		{"/ABC123", "", false, "mobile barcode"},    // 6 after the slash
		{"/ABC12345", "", false, "mobile barcode"},  // 8
		{"/ABC_123", "", false, "mobile barcode"},   // "_"
		{"ABC1234", "", false, "mobile barcode"},    // no slash
		{"A123456789012345", "", false, "citizen"},  // one letter
		{"AB1234567890123", "", false, "citizen"},   // 13 digits
		{"AB12345678901234X", "", false, "citizen"}, // too long
		{"", "12", false, "3 to 7 digits"},
		{"", "12345678", false, "3 to 7 digits"},
		{"", "12a", false, "3 to 7 digits"},
		{"/ABC+-.1", "168", false, "not both"},
	} {
		s := InvoiceCarrierSet{AccountID: "a", Carrier: c.carrier, DonationCode: c.donation}
		err := CheckInvoiceCarrier(&s)
		if (err == nil) != c.ok || err != nil && !strings.Contains(err.Error(), c.why) {
			t.Errorf("carrier %q donation %q: %v, want ok=%v (%s)", c.carrier, c.donation, err, c.ok, c.why)
		}
	}
}
