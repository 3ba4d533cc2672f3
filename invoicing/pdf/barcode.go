package pdf

import (
	"fmt"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code39"
	"github.com/boombuler/barcode/qr"
)

// minLeftQRModules is version 6 (41×41): the spec's floor for the left QR.
const minLeftQRModules = 41

// encodeQR encodes UTF-8 content (byte mode) at the lowest error-correction
// level that yields at least minModules modules. boombuler picks the
// smallest version and cannot force one, so raising the level (L → M → Q →
// H) is how short content reaches version 6; the spec asks for level ≥ L.
func encodeQR(content string, minModules int) (barcode.Barcode, error) {
	var last barcode.Barcode
	for _, ecl := range []qr.ErrorCorrectionLevel{qr.L, qr.M, qr.Q, qr.H} {
		code, err := qr.Encode(content, ecl, qr.Unicode)
		if err != nil {
			return nil, fmt.Errorf("pdf: QR: %w", err)
		}
		if code.Bounds().Dx() >= minModules {
			return code, nil
		}
		last = code
	}
	if minModules > 0 {
		return nil, fmt.Errorf("pdf: QR has %d modules, below %d", last.Bounds().Dx(), minModules)
	}
	return last, nil
}

func dark(code barcode.Barcode, x, y int) bool {
	r, _, _, _ := code.At(x, y).RGBA()
	return r < 0x8000
}

// drawQR draws the code's modules as filled vector rectangles in a size×size
// box (no JPEG: blurred 1-px modules do not scan), one rectangle per run of
// dark modules in a row.
func (d doc) drawQR(code barcode.Barcode, x, y, size float64) {
	b := code.Bounds()
	m := size / float64(b.Dx())
	d.SetFillColor(0, 0, 0)
	for row := b.Min.Y; row < b.Max.Y; row++ {
		for col := b.Min.X; col < b.Max.X; {
			if !dark(code, col, row) {
				col++
				continue
			}
			start := col
			for col < b.Max.X && dark(code, col, row) {
				col++
			}
			d.Rect(x+float64(start-b.Min.X)*m, y+float64(row-b.Min.Y)*m, float64(col-start)*m, m, "F")
		}
	}
}

// encodeCode39 encodes content without check digit; boombuler adds the *
// start and stop characters and draws wide elements two modules wide.
func encodeCode39(content string) (barcode.Barcode, error) {
	code, err := code39.Encode(content, false, false)
	if err != nil {
		return nil, fmt.Errorf("pdf: Code 39: %w", err)
	}
	return code, nil
}

// drawBars draws a 1D code with the given module width and bar height and
// returns its width.
func (d doc) drawBars(code barcode.Barcode, x, y, module, height float64) float64 {
	b := code.Bounds()
	d.SetFillColor(0, 0, 0)
	for col := b.Min.X; col < b.Max.X; {
		if !dark(code, col, b.Min.Y) {
			col++
			continue
		}
		start := col
		for col < b.Max.X && dark(code, col, b.Min.Y) {
			col++
		}
		d.Rect(x+float64(start-b.Min.X)*module, y, float64(col-start)*module, height, "F")
	}
	return float64(b.Dx()) * module
}
