package pdf

import (
	_ "embed"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/image/font/sfnt"
)

// defaultFont is AR PL Mingti2L Big5 (Debian fonts-arphic-bsmi00lp, Arphic
// Public License, see fonts/ARPHICPL.TXT): a 明體 covering Big5, which holds
// every character of ordinary Taiwanese company names and addresses.
//
//go:embed fonts/bsmi00lp.ttf
var defaultFont []byte

// fontFamily is the name the documents register the font under.
const fontFamily = "tc"

// font is a TrueType font held in memory with the glyph id of every BMP rune
// it maps (0: none).
type font struct {
	data []byte
	ttf  *ttf
	gid  []uint16 // indexed by rune, 0x0000–0xFFFF
	// latin1 holds the font's characters U+0001–U+00FF: gofpdf writes
	// widths for all of them whether used or not, so every subset keeps them.
	latin1 map[rune]bool
}

// loadFont reads path, or takes the embedded font when path is empty, and
// indexes its character map once.
func loadFont(path string) (*font, error) {
	data := defaultFont
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("pdf: font: %w", err)
		}
		data = b
	}
	f, err := sfnt.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("pdf: font %q: %w", path, err)
	}
	t, err := parseTTF(data)
	if err != nil {
		return nil, err
	}
	ft := &font{data: data, ttf: t, gid: make([]uint16, 0x10000)}
	var buf sfnt.Buffer
	for r := rune(1); r < 0x10000; r++ {
		if gi, err := f.GlyphIndex(&buf, r); err == nil && int(gi) < t.numGlyphs {
			ft.gid[r] = uint16(gi)
		}
	}
	ft.latin1 = map[rune]bool{}
	for r := rune(1); r <= 0xFF; r++ {
		if ft.has(r) {
			ft.latin1[r] = true
		}
	}
	if !ft.has('0') || !ft.has('A') || !ft.has('發') {
		return nil, fmt.Errorf("pdf: font %q lacks digits, Latin or Traditional Chinese", path)
	}
	return ft, nil
}

func (f *font) has(r rune) bool { return r >= 0 && r < 0x10000 && f.gid[r] != 0 }

func (f *font) glyphOf(r rune) uint16 { return f.gid[r] }

// MissingGlyphsError lists characters the font cannot draw: a gofpdf font
// would print them as blank boxes, which must not happen on a legal
// document, so rendering stops instead. (Reasons are the exception: see
// printable.)
type MissingGlyphsError struct{ Runes []rune }

func (e *MissingGlyphsError) Error() string {
	return fmt.Sprintf("pdf: the font has no glyph for %q; configure a font that covers them", string(e.Runes))
}

// check reports the characters of texts that the font lacks (control
// characters such as newlines are fine).
func (f *font) check(texts ...string) error {
	missing := map[rune]bool{}
	for _, s := range texts {
		for _, r := range s {
			if r >= 0x20 && !f.has(r) {
				missing[r] = true
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	rs := make([]rune, 0, len(missing))
	for r := range missing {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	return &MissingGlyphsError{Runes: rs}
}

// printable replaces each character of s that the font lacks with □ (? if
// the font lacks □ too). It is for free text recorded before it was checked
// against the font, such as a void's reason: the document still prints,
// and shows where a character is missing, instead of failing for good.
func (f *font) printable(s string) string {
	mark := '□'
	if !f.has(mark) {
		mark = '?'
	}
	return strings.Map(func(r rune) rune {
		if r >= 0x20 && !f.has(r) {
			return mark
		}
		return r
	}, s)
}

var cleaner = strings.NewReplacer("\t", " ", "\r", "")

// clean turns tabs into spaces and drops CRs so that they do not reach the PDF.
func clean(s string) string { return cleaner.Replace(s) }

// Printable checks texts against the renderer's font: nil, or a
// *MissingGlyphsError naming what it cannot draw.
func (r *Renderer) Printable(texts ...string) error { return r.font.check(texts...) }
