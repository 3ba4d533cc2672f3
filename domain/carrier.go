package domain

import (
	"fmt"
	"strings"
)

// TypeInvoiceCarrierSet is the type of InvoiceCarrierSet.
const TypeInvoiceCarrierSet = "account.invoice_carrier_set"

// InvoiceCarrierSet records where an account's B2C invoices go: a carrier
// (載具: 手機條碼 or 自然人憑證), a donation code (捐贈碼, 愛心碼), or
// neither (both empty: a printed proof). A carrier and a donation exclude
// each other. B2B invoices ignore it.
type InvoiceCarrierSet struct {
	AccountID    string `json:"account_id"`
	Carrier      string `json:"carrier,omitempty"`
	DonationCode string `json:"donation_code,omitempty"`
	// TaxID, when present, is the buyer's 統一編號 from now on: a number
	// makes the account's invoices B2B (no carrier, no donation), "" makes
	// them B2C. Absent (older events, or a change of carrier alone): the
	// 統一編號 stays as it was.
	TaxID *string `json:"tax_id,omitempty"`
	Actor Actor   `json:"actor"` // who caused it
}

func (InvoiceCarrierSet) EventType() string  { return TypeInvoiceCarrierSet }
func (InvoiceCarrierSet) SchemaVersion() int { return 1 }

func init() { factories[TypeInvoiceCarrierSet] = func() Event { return &InvoiceCarrierSet{} } }

// ValidMobileBarcode checks a 手機條碼 carrier: "/" then 7 characters of
// 0-9, A-Z, ".", "+" and "-".
func ValidMobileBarcode(s string) bool {
	if len(s) != 8 || s[0] != '/' {
		return false
	}
	for i := 1; i < 8; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '.' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

// ValidCitizenCert checks a 自然人憑證 carrier: 2 uppercase letters and 14
// digits.
func ValidCitizenCert(s string) bool {
	if len(s) != 16 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	return digits(s[2:])
}

// ValidDonationCode checks a 捐贈碼 (愛心碼): 3 to 7 digits.
func ValidDonationCode(s string) bool { return len(s) >= 3 && len(s) <= 7 && digits(s) }

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// CheckInvoiceCarrier checks an account's carrier setting at the door and
// says what is wrong. Input is trimmed; mobile barcodes and certificates
// are upper-cased as the apps print them.
func CheckInvoiceCarrier(s *InvoiceCarrierSet) error {
	s.Carrier = strings.ToUpper(strings.TrimSpace(s.Carrier))
	s.DonationCode = strings.TrimSpace(s.DonationCode)
	var problems []string
	if s.Carrier != "" && s.DonationCode != "" {
		problems = append(problems, "choose a carrier or a donation code, not both")
	}
	if c := s.Carrier; c != "" && !ValidMobileBarcode(c) && !ValidCitizenCert(c) {
		problems = append(problems, fmt.Sprintf("carrier %s is neither a mobile barcode (手機條碼: \"/\" and 7 characters of 0-9 A-Z . + -) nor a citizen digital certificate (自然人憑證: 2 letters and 14 digits)", Quote(c)))
	}
	if d := s.DonationCode; d != "" && !ValidDonationCode(d) {
		problems = append(problems, fmt.Sprintf("donation code %s: want 3 to 7 digits (愛心碼)", Quote(d)))
	}
	if s.TaxID != nil {
		id := strings.TrimSpace(*s.TaxID)
		s.TaxID = &id
		switch {
		case id == ConsumerTaxID:
			problems = append(problems, fmt.Sprintf("統一編號 %s %s", Quote(id), consumerProblem))
		case id != "" && !ValidTaxID(id):
			problems = append(problems, fmt.Sprintf("統一編號 %s is not valid: 8 digits with a correct check digit", Quote(id)))
		case id != "" && (s.Carrier != "" || s.DonationCode != ""):
			problems = append(problems, "an invoice to a 統一編號 has no carrier or donation code: leave them empty")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}
