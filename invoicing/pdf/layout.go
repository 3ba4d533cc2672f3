package pdf

import (
	"strings"

	"github.com/jung-kurt/gofpdf"
	"github.com/shopspring/decimal"
)

// doc wraps gofpdf with the few layout helpers the documents share, and
// records every character it draws (see Renderer.render).
type doc struct {
	*gofpdf.Fpdf
	seen map[rune]bool
}

// text cleans s and records its characters.
func (d doc) text(s string) string {
	s = clean(s)
	for _, c := range s {
		d.seen[c] = true
	}
	return s
}

// cell writes one line of text in a box: align "L", "C" or "R" (+ "M" is
// implied), border "" or "1".
func (d doc) cell(x, y, w, h, size float64, s, align, border string) {
	d.SetFont(fontFamily, "", size)
	d.SetXY(x, y)
	d.CellFormat(w, h, d.text(s), border, 0, align+"M", false, 0, "")
}

// mark writes word large and tinted across the page, turned 30°, in a
// band whose top is at y (its centre 30 mm lower): a voided or withdrawn
// document says so at a glance however it is cropped.
func (d doc) mark(word string, alpha, y float64) {
	d.SetAlpha(alpha, "Normal")
	d.TransformBegin()
	d.TransformRotate(30, pageW/2, y+30)
	d.cell(0, y, pageW, 60, 120, word, "C", "")
	d.TransformEnd()
	d.SetAlpha(1, "Normal")
}

// strong writes like cell with a stroked outline: the CJK font has no bold
// face, and fill+stroke reads as bold in print.
func (d doc) strong(x, y, w, h, size float64, s, align string) {
	d.SetTextRenderingMode(2)
	d.SetLineWidth(size / 60)
	d.cell(x, y, w, h, size, s, align, "")
	d.SetTextRenderingMode(0)
	d.SetLineWidth(0.2)
}

// minFitSize is the smallest size fit shrinks a text to.
const minFitSize = 4.0

// fit writes s inside the fixed box w × h (a proof's seller name, whose
// place the MOF layout fixes): at size when it fits on one line, else on
// as many lines at as large a size as the box holds, never below
// minFitSize. A long name prints whole, smaller, rather than off the page.
func (d doc) fit(x, y, w, h, size float64, s, align string) {
	for ; ; size -= 0.5 {
		lineH := size * 25.4 / 72 * 1.15 // points to mm, with leading
		lines := d.lines(s, w, size)
		if n := float64(len(lines)); n == 1 && size*25.4/72 <= h || n*lineH <= h || size <= minFitSize {
			if n == 1 {
				lineH = h
			}
			top := y + (h-n*lineH)/2
			for i, l := range lines {
				d.cell(x, top+float64(i)*lineH, w, lineH, size, l, align, "")
			}
			return
		}
	}
}

// room returns y, or the top of a new page when a block h mm tall drawn
// from y would cross the bottom margin: a block that belongs together (a
// document's totals) is neither split across pages nor drawn past one.
func (d doc) room(y, h float64) float64 {
	_, pageH := d.GetPageSize()
	_, top, _, bottom := d.GetMargins()
	if y+h > pageH-bottom {
		d.AddPage()
		return top
	}
	return y
}

// para writes wrapped text and returns the y below it, moving to a new page
// when the bottom margin is reached.
func (d doc) para(x, y, w, lineH, size float64, s string) float64 {
	for _, l := range d.lines(s, w, size) {
		y = d.room(y, lineH)
		d.cell(x, y, w, lineH, size, l, "L", "")
		y += lineH
	}
	return y
}

// lines splits s to fit width w (less 1 mm of cell padding each side) at the
// given size. gofpdf's SplitText and MultiCell drop the CJK character at
// each break, which must not happen on an invoice, hence this breaker: CJK
// text breaks anywhere, Latin words break at spaces, and closing punctuation
// never starts a line.
func (d doc) lines(s string, w, size float64) []string {
	d.SetFont(fontFamily, "", size)
	limit := w - 2*d.GetCellMargin()
	var out []string
	// CRLF and a lone CR break lines as LF does: a quote's remarks
	// recorded before they were written with LF alone may hold them.
	for _, para := range strings.Split(d.text(lineBreaks.Replace(s)), "\n") {
		line := []rune{}
		width := 0.0
		for _, c := range para {
			cw := d.GetStringWidth(string(c))
			if width+cw > limit && len(line) > 0 && !closing(c) {
				cut := len(line)
				if latinWord(c) {
					if st := latinRunStart(line); st > 0 {
						cut = st
					}
				}
				out = append(out, strings.TrimRight(string(line[:cut]), " "))
				line = append([]rune{}, []rune(strings.TrimLeft(string(line[cut:]), " "))...)
				width = d.GetStringWidth(string(line))
			}
			line = append(line, c)
			width += cw
		}
		out = append(out, string(line))
	}
	return out
}

// lineBreaks writes CRLF and a lone CR as LF.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

func latinWord(c rune) bool { return c < 0x2E80 && c != ' ' }

func closing(c rune) bool {
	return strings.ContainsRune("，。、；：？！）」』】〉》,.;:?!)]}%", c)
}

// latinRunStart is where the Latin word or figure ending rs starts (after
// a space or a CJK character), so that a line breaks before it rather than
// inside it: 新臺幣105,000 must not print as 105, and 000. Closing
// punctuation at its start stays on the line before. It is 0 when the
// whole line is one word, which then breaks at the margin.
func latinRunStart(rs []rune) int {
	i := len(rs)
	for i > 0 && latinWord(rs[i-1]) {
		i--
	}
	for i > 0 && i < len(rs) && closing(rs[i]) {
		i++
	}
	return i
}

// column is one column of a table.
type column struct {
	title string
	w     float64
	align string
}

// table draws a header and rows; cells wrap, rows grow to the tallest cell,
// and the header repeats after a page break. It returns the y below it.
func (d doc) table(x, y float64, cols []column, rows [][]string, size float64) float64 {
	const lineH = 5.5
	header := func(y float64) float64 {
		d.SetFillColor(235, 235, 235)
		cx := x
		for _, c := range cols {
			d.SetFont(fontFamily, "", size)
			d.SetXY(cx, y)
			d.CellFormat(c.w, lineH+1, d.text(c.title), "1", 0, "CM", true, 0, "")
			cx += c.w
		}
		return y + lineH + 1
	}
	y = header(y)
	_, pageH := d.GetPageSize()
	_, _, _, bottom := d.GetMargins()
	for _, row := range rows {
		wrapped := make([][]string, len(cols))
		n := 1
		for i, c := range cols {
			wrapped[i] = d.lines(row[i], c.w, size)
			n = max(n, len(wrapped[i]))
		}
		h := float64(n)*lineH + 1
		if y+h > pageH-bottom {
			d.AddPage()
			_, top, _, _ := d.GetMargins()
			y = header(top)
		}
		cx := x
		for i, c := range cols {
			d.Rect(cx, y, c.w, h, "D")
			for li, l := range wrapped[i] {
				d.cell(cx, y+0.5+float64(li)*lineH, c.w, lineH, size, l, c.align, "")
			}
			cx += c.w
		}
		y += h
	}
	return y
}

// ntd formats whole dollars with thousands separators: 12300 → "12,300".
func ntd(n int64) string { return group(decimal.NewFromInt(n).String()) }

// num formats a quantity with thousands separators and no trailing zeros.
func num(d decimal.Decimal) string { return group(d.String()) }

// money formats an amount to the cent, always with two decimals, so that a
// column of amounts lines up and adds up as printed: 7582.4 → "7,582.40".
func money(d decimal.Decimal) string { return group(d.StringFixed(2)) }

// exact formats an amount as money does, but never rounds it: a quote's
// unit price of 33.335 and its line of 3 × 33.335 = 100.005 print as they
// are, so that each line multiplies out and the 小計 is visibly their sum
// rounded once.
func exact(d decimal.Decimal) string {
	if d.Exponent() >= -2 || d.Equal(d.Round(2)) {
		return money(d)
	}
	return group(d.String())
}

func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}
