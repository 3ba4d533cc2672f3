package twrules

// MIG carrier type codes (from implementations; check against the MIG 4.1 text).
const (
	CarrierMobileBarcode = "3J0002" // 手機條碼
	CarrierCitizenCert   = "CQ0001" // 自然人憑證條碼
)

// ValidMobileBarcode checks a 手機條碼: "/" then 7 of [0-9A-Z.+-].
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

// ValidCitizenCert checks a 自然人憑證 carrier: 2 uppercase letters and 14 digits.
func ValidCitizenCert(s string) bool {
	return len(s) == 16 && validTrack(s[:2]) && allDigits(s[2:])
}

// ValidDonationCode checks a 捐贈碼 (愛心碼): 3 to 7 digits.
func ValidDonationCode(s string) bool { return len(s) >= 3 && len(s) <= 7 && allDigits(s) }

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
