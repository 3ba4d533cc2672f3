package twrules

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
)

// RandomCode draws the invoice's 4-digit 隨機碼 ("0000"–"9999") from
// crypto/rand: it guards the lottery and the QR verification, so it must not
// be guessable.
func RandomCode() (string, error) { return RandomCodeFrom(rand.Reader) }

// RandomCodeFrom draws from r (tests pass a fixed reader).
func RandomCodeFrom(r io.Reader) (string, error) {
	n, err := rand.Int(r, big.NewInt(10000))
	if err != nil {
		return "", fmt.Errorf("twrules: random code: %w", err)
	}
	return fmt.Sprintf("%04d", n.Int64()), nil
}

// ValidRandomCode reports whether s is 4 digits.
func ValidRandomCode(s string) bool { return len(s) == 4 && allDigits(s) }
