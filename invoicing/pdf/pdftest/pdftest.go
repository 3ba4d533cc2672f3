// Package pdftest reads PDFs back for tests: text with pdftotext, pages
// rasterized with pdftoppm (Debian's poppler-utils), barcodes decoded with
// gozxing.
package pdftest

import (
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// The read-back tests need poppler-utils (pdftotext, pdftoppm): CI installs
// it with `apt-get install -y poppler-utils`.
// Tool finds a poppler tool or fails naming its apt package.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: install the apt package poppler-utils (apt-get install -y poppler-utils)", name)
	}
	return p
}

// Text extracts the text of a PDF in reading order with pdftotext (Go
// readers such as ledongthuc/pdf ignore the ToUnicode map of gofpdf's
// Identity-H fonts and return garbage for Chinese).
func Text(t testing.TB, doc []byte) string {
	t.Helper()
	return text(t, doc)
}

// LayoutText extracts the text keeping the physical layout (pdftotext
// -layout): a table row stays on one line, its cells in column order.
func LayoutText(t testing.TB, doc []byte) string {
	t.Helper()
	return text(t, doc, "-layout")
}

// RawText extracts the text in the order it was drawn (pdftotext -raw):
// lines wrapped in one column of two stay together.
func RawText(t testing.TB, doc []byte) string {
	t.Helper()
	return text(t, doc, "-raw")
}

func text(t testing.TB, doc []byte, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(Tool(t, "pdftotext"), append(flags, "-enc", "UTF-8", in, "-")...).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return string(out)
}

// Rasterize renders page 1 at dpi with pdftoppm.
func Rasterize(t testing.TB, doc []byte, dpi int) image.Image {
	t.Helper()
	return rasterize(t, doc, dpi)
}

// RasterizeRegion renders only the region (mm) of page 1 at dpi, much
// faster than the whole page; the image is the region, origin at 0,0.
func RasterizeRegion(t testing.TB, doc []byte, dpi int, x, y, w, h float64) image.Image {
	t.Helper()
	px := func(mm float64) string { return strconv.Itoa(int(mm / 25.4 * float64(dpi))) }
	return rasterize(t, doc, dpi, "-x", px(x), "-y", px(y), "-W", px(w), "-H", px(h))
}

func rasterize(t testing.TB, doc []byte, dpi int, flags ...string) image.Image {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-png", "-gray", "-singlefile", "-f", "1", "-l", "1", "-r", strconv.Itoa(dpi)}, flags...)
	out, err := exec.Command(Tool(t, "pdftoppm"), append(args, in, filepath.Join(dir, "page"))...).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Crop cuts the region (mm) out of a page rendered at dpi, with a white
// margin so the decoder sees a quiet zone.
func Crop(img image.Image, dpi int, x, y, w, h float64) image.Image {
	px := func(mm float64) int { return int(mm / 25.4 * float64(dpi)) }
	r := image.Rect(px(x), px(y), px(x+w), px(y+h))
	out := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	return out
}

var decodeHints = map[gozxing.DecodeHintType]interface{}{
	gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	gozxing.DecodeHintType_TRY_HARDER:    true,
}

var pureHints = map[gozxing.DecodeHintType]interface{}{
	gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	gozxing.DecodeHintType_PURE_BARCODE:  true,
}

// DecodeQR reads the QR code in img.
func DecodeQR(t testing.TB, img image.Image) string {
	t.Helper()
	s, err := TryDecodeQR(img)
	if err != nil {
		t.Fatalf("QR decode: %v", err)
	}
	return s
}

// TryDecodeQR reads the QR code in img, or says why it could not. img
// holds one code and its quiet zone, square to the axes; pure-barcode
// reading needs both. At resolutions where a module is not close to whole
// pixels both ways can still fail, so a caller may retry another.
func TryDecodeQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, decodeHints)
	if err != nil {
		// The finder-pattern detector misses some clean codes; a crop that
		// holds only the code and its quiet zone, square to the axes, can
		// also be read as a pure barcode, module by module.
		res, err = qrcode.NewQRCodeReader().Decode(bmp, pureHints)
	}
	if err != nil {
		// Some clean codes defeat both at every resolution (zbarimg reads
		// them): turned a quarter, the detector scans them anew.
		if rb, rerr := gozxing.NewBinaryBitmapFromImage(quarterTurn(img)); rerr == nil {
			res, err = qrcode.NewQRCodeReader().Decode(rb, decodeHints)
		}
	}
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// quarterTurn is img turned 90° clockwise, in grey.
func quarterTurn(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(b.Max.Y-1-y, x-b.Min.X, img.At(x, y))
		}
	}
	return out
}

// DecodeCode39 reads the Code 39 barcode in img.
func DecodeCode39(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := oned.NewCode39Reader().Decode(bmp, decodeHints)
	if err != nil {
		t.Fatalf("Code 39 decode: %v", err)
	}
	return res.GetText()
}

// MustContain fails t unless text holds every want.
func MustContain(t testing.TB, text string, wants ...string) {
	t.Helper()
	// pdftotext breaks lines where a cell wraps; also look across breaks.
	joined := strings.ReplaceAll(text, "\n", "")
	for _, w := range wants {
		if !strings.Contains(text, w) && !strings.Contains(joined, w) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("extracted text:\n%s", text)
	}
}
