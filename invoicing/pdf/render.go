package pdf

import (
	"errors"
	"io"
	"time"

	"github.com/jung-kurt/gofpdf"
)

// render checks texts (the caller-supplied strings of the document, and
// those derived from its data such as capital numerals) against the font and
// lays the document out with draw.
//
// gofpdf parses the whole font for every document, which would dominate the
// cost of an invoice, so it gets a subset holding exactly the characters the
// document draws (plus Latin-1, whose widths gofpdf always writes). The
// subset is guessed from the label characters learned for the document's
// kind (a key naming the document type and its variant) and the characters
// of texts; when the guess is not exact the document is laid out again on
// the exact subset. The output therefore depends on the
// document alone, never on what was rendered before.
func (r *Renderer) render(w io.Writer, kind, title string, at time.Time, texts []string, draw func(doc) error) error {
	return r.renderOn(a4, w, kind, title, at, texts, draw)
}

// a4 is the page of every document but the 5.7 cm proof.
var a4 = gofpdf.SizeType{Wd: pageW, Ht: 297}

// renderOn is render on pages of the given size.
func (r *Renderer) renderOn(page gofpdf.SizeType, w io.Writer, kind, title string, at time.Time, texts []string, draw func(doc) error) error {
	if err := r.font.check(texts...); err != nil {
		return err
	}
	given := map[rune]bool{}
	for _, s := range texts {
		for _, c := range s {
			if r.font.has(c) && !r.font.latin1[c] {
				given[c] = true
			}
		}
	}
	want := make(map[rune]bool, 512)
	for c := range given {
		want[c] = true
	}
	r.mu.RLock()
	for c := range r.labels[kind] {
		want[c] = true
	}
	r.mu.RUnlock()
	for attempt := 0; attempt < 3; attempt++ {
		r.layouts.Add(1)
		d := doc{Fpdf: r.newDoc(title, at, r.fontFor(want), page), seen: map[rune]bool{}}
		if err := draw(d); err != nil {
			return err
		}
		exact := map[rune]bool{}
		for c := range d.seen {
			if r.font.has(c) && !r.font.latin1[c] {
				exact[c] = true
			}
		}
		if r.fullFont || sameSet(exact, want) {
			return finish(d.Fpdf, w)
		}
		r.mu.Lock()
		labels := r.labels[kind]
		if labels == nil {
			labels = map[rune]bool{}
			r.labels[kind] = labels
		}
		for c := range exact {
			if !given[c] {
				labels[c] = true // a label character; kept, as labels recur
			}
		}
		r.mu.Unlock()
		want = exact
	}
	return errors.New("pdf: font subset did not converge") // cannot happen: layout does not change the characters drawn
}

// fontFor is the font gofpdf gets for a document drawing the runes of want.
func (r *Renderer) fontFor(want map[rune]bool) []byte {
	if r.fullFont {
		return r.font.data
	}
	runes := make([]rune, 0, len(want)+len(r.font.latin1))
	for c := range want {
		runes = append(runes, c)
	}
	for c := range r.font.latin1 {
		runes = append(runes, c)
	}
	return r.font.ttf.subset(runes, r.font.glyphOf)
}

func sameSet(a, b map[rune]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for c := range a {
		if !b[c] {
			return false
		}
	}
	return true
}
