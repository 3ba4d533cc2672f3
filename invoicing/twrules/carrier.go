package twrules

import "github.com/routefree/routefree/domain"

// MIG 4.1 carrier type codes (CarrierType of F0401).
const (
	CarrierMobileBarcode = "3J0002" // 手機條碼
	CarrierCitizenCert   = "CQ0001" // 自然人憑證條碼
)

// ValidMobileBarcode checks a 手機條碼: "/" then 7 of [0-9A-Z.+-].
func ValidMobileBarcode(s string) bool { return domain.ValidMobileBarcode(s) }

// ValidCitizenCert checks a 自然人憑證 carrier: 2 uppercase letters and 14 digits.
func ValidCitizenCert(s string) bool { return domain.ValidCitizenCert(s) }

// ValidDonationCode checks a 捐贈碼 (愛心碼): 3 to 7 digits.
func ValidDonationCode(s string) bool { return domain.ValidDonationCode(s) }

// CarrierTypeOf names the MIG carrier type of a carrier id, or "" if it is
// neither a mobile barcode nor a citizen certificate.
func CarrierTypeOf(s string) string {
	switch {
	case ValidMobileBarcode(s):
		return CarrierMobileBarcode
	case ValidCitizenCert(s):
		return CarrierCitizenCert
	}
	return ""
}
