package domain

import (
	"strings"

	"golang.org/x/text/width"
)

// ValidTaxID checks a 統一編號 (unified business number) by its checksum under
// the rule in force since 2023-04-01: weights 1,2,1,2,1,2,4,1, digit sums of
// each product, total divisible by 5; when the 7th digit is 7 its product 28
// may count as 1 or 0. Numbers valid under the old divisor 10 stay valid.
func ValidTaxID(ban string) bool {
	if len(ban) != 8 {
		return false
	}
	w := [8]int{1, 2, 1, 2, 1, 2, 4, 1}
	sum := 0
	for i := 0; i < 8; i++ {
		c := ban[i]
		if c < '0' || c > '9' {
			return false
		}
		p := int(c-'0') * w[i]
		sum += p/10 + p%10
	}
	return sum%5 == 0 || (ban[6] == '7' && (sum+1)%5 == 0)
}

// ConsumerTaxID is what an e-invoice gives as the 統一編號 of a buyer who has
// none. It passes the checksum, but no company has it: typed as a
// customer's, it would send a B2B invoice to nobody.
const ConsumerTaxID = "00000000"

// consumerProblem is TaxIDProblem's words for ConsumerTaxID.
const consumerProblem = "is the e-invoice code of a buyer without one: leave it empty for an invoice to a person"

// TaxIDProblem says what is wrong with a 統一編號 given for a buyer, in the
// words of an error: "is not 8 digits" (a digit left out, a letter),
// "fails its checksum" (a digit mistyped) or that it is ConsumerTaxID; ""
// when it is valid.
func TaxIDProblem(ban string) string {
	if ban == ConsumerTaxID {
		return consumerProblem
	}
	if ValidTaxID(ban) {
		return ""
	}
	if len(ban) != 8 || strings.Trim(ban, "0123456789") != "" {
		return "is not 8 digits"
	}
	return "fails its checksum"
}

// TaxIDAsTyped reads a 統一編號 as an operator types or pastes it: full-width
// digits (a Chinese input method's ０４５９５２５７) as plain ones, and the
// spaces around it left out. Anything else stays for TaxIDProblem to name.
func TaxIDAsTyped(ban string) string {
	return strings.TrimSpace(width.Narrow.String(ban))
}
