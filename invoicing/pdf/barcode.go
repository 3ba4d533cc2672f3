package pdf

import (
	"fmt"
	"image"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code39"
	"github.com/makiuchi-d/gozxing"
	qrdec "github.com/makiuchi-d/gozxing/qrcode/decoder"
	qrenc "github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// minLeftQRModules is version 6 (41×41): the spec's floor for the left QR.
const minLeftQRModules = 41

// qrMatrix is an encoded QR code: n×n modules, row-major, true = dark.
type qrMatrix struct {
	n    int
	dark []bool
}

// Bounds is the module grid, as for an image.
func (m *qrMatrix) Bounds() image.Rectangle { return image.Rect(0, 0, m.n, m.n) }

// encodeQR encodes UTF-8 content at error-correction level L (the spec's
// floor) in a version with at least minModules modules. gozxing's encoder
// can force a version, which boombuler's cannot, and measured ~4.5× faster.
// Byte mode carries the UTF-8 bytes without an ECI header (the charset is
// the content's own field 12), as boombuler's qr.Unicode did.
func encodeQR(content string, minModules int) (*qrMatrix, error) {
	hints := map[gozxing.EncodeHintType]interface{}{}
	if minModules > 21 {
		v := (minModules - 17 + 3) / 4 // modules = 17 + 4·version
		if v > 40 {
			return nil, fmt.Errorf("pdf: QR cannot have %d modules", minModules)
		}
		hints[gozxing.EncodeHintType_QR_VERSION] = v
	}
	code, err := qrenc.Encoder_encode(content, qrdec.ErrorCorrectionLevel_L, hints)
	if err != nil && len(hints) > 0 {
		// Too long for the minimum version: let the encoder pick a larger one.
		code, err = qrenc.Encoder_encode(content, qrdec.ErrorCorrectionLevel_L, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("pdf: QR: %w", err)
	}
	mat := code.GetMatrix()
	n := mat.GetWidth()
	m := &qrMatrix{n: n, dark: make([]bool, n*n)}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			m.dark[y*n+x] = mat.Get(x, y) == 1
		}
	}
	return m, nil
}

func dark(code barcode.Barcode, x, y int) bool {
	r, _, _, _ := code.At(x, y).RGBA()
	return r < 0x8000
}

// drawQR draws the code's modules as filled vector rectangles in a size×size
// box (no JPEG: blurred 1-px modules do not scan), one rectangle per run of
// dark modules in a row.
func (d doc) drawQR(code *qrMatrix, x, y, size float64) {
	n := code.n
	m := size / float64(n)
	d.SetFillColor(0, 0, 0)
	for row := 0; row < n; row++ {
		for col := 0; col < n; {
			if !code.dark[row*n+col] {
				col++
				continue
			}
			start := col
			for col < n && code.dark[row*n+col] {
				col++
			}
			d.Rect(x+float64(start)*m, y+float64(row)*m, float64(col-start)*m, m, "F")
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
