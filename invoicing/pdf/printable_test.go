package pdf

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/routefree/routefree/domain"
)

// domain.Printable is the embedded font's coverage, so that account opening
// refuses exactly the names that invoices cannot print.
// ROUTEFREE_WRITE_GLYPHS=1 rewrites domain/printable.bits from the font.
func TestDomainPrintableIsTheEmbeddedFont(t *testing.T) {
	f, err := loadFont("")
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("ROUTEFREE_WRITE_GLYPHS") == "1" {
		bits := make([]byte, 0x10000/8)
		for r := rune(0x20); r < 0x10000; r++ {
			if f.has(r) {
				bits[r/8] |= 1 << (r % 8)
			}
		}
		if err := os.WriteFile(filepath.Join("..", "..", "domain", "printable.bits"), bits, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skip("domain/printable.bits written")
	}
	diff := 0
	for r := rune(0x20); r < 0x10000; r++ {
		if f.has(r) != domain.Printable(r) {
			diff++
		}
	}
	if diff > 0 {
		t.Fatalf("domain.Printable differs from the embedded font on %d characters: run ROUTEFREE_WRITE_GLYPHS=1 go test -run TestDomainPrintableIsTheEmbeddedFont ./invoicing/pdf", diff)
	}
	if domain.Printable(0x2000B) || !domain.Printable('發') {
		t.Error("𠀋 printable or 發 not")
	}
}
