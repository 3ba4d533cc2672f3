package pdf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// A B2C proof in the 5.7 cm layout: a 57 × 90 mm proof whose barcodes
// decode to the spec's content, and the items on the next page.
func TestThermalB2CProof(t *testing.T) {
	r := testRenderer(t)
	inv := b2cInvoice()
	inv.Carrier = "" // printed: no carrier, no donation
	doc := render(t, func(b *bytes.Buffer) error {
		return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{Thermal: true})
	})
	text := pdftest.Text(t, doc)
	pdftest.MustContain(t, text, "電子發票證明聯", "115年11-12月", "CD-00000042", "2026-12-01 01:30:00",
		"隨機碼 0071", "總計 5,500", "賣方 12345675", "交易明細", "API 儲值", "5,500.00")
	if strings.Contains(text, "買方") {
		t.Error("B2C proof names a buyer")
	}
	// Page size: 57 mm wide, the proof 90 mm tall.
	dir := t.TempDir()
	path := filepath.Join(dir, "p.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command(pdftest.Tool(t, "pdfinfo"), "-f", "1", "-l", "1", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v %s", err, info)
	}
	if !strings.Contains(string(info), "161.57 x 255.12 pts") {
		t.Errorf("page size: %s", info)
	}

	key, _ := twrules.ParseQRKey(testKey)
	proof := proofOf(inv, testSeller())
	wantLeft, wantRight, err := proof.QRContents(key, twrules.DefaultQRBudget)
	if err != nil {
		t.Fatal(err)
	}
	const dpi = 600
	page := pdftest.Rasterize(t, doc, dpi)
	q := 2.0
	if got := pdftest.DecodeQR(t, pdftest.Crop(page, dpi, thermalQRLeftX-q, thermalQRY-q, thermalQRSize+2*q, thermalQRSize+2*q)); got != wantLeft {
		t.Errorf("left QR = %q\nwant     %q", got, wantLeft)
	}
	if got := pdftest.DecodeQR(t, pdftest.Crop(page, dpi, thermalQRRightX-q, thermalQRY-q, thermalQRSize+2*q, thermalQRSize+2*q)); got != wantRight {
		t.Errorf("right QR = %q, want %q", got, wantRight)
	}
	bars := pdftest.Crop(page, dpi, 0, thermalCode39Y, thermalW, thermalCode39H)
	if got := pdftest.DecodeCode39(t, bars); got != proof.Code39() {
		t.Errorf("Code 39 = %q, want %q", got, proof.Code39())
	}
}
