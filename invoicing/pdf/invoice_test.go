package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

func TestInvoiceB2BText(t *testing.T) {
	r := testRenderer(t)
	inv := b2bInvoice()
	doc := render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{}) })
	pdftest.MustContain(t, pdftest.Text(t, doc),
		"電子發票證明聯", "115年11-12月", "AB-12345678", "2026-11-05 14:30:00", "隨機碼 1234",
		"總計 12,300", "賣方 12345675", "買方 22099131", "格式 25",
		"台灣積體電路製造股份有限公司", "AI API 呼叫費用（2026年10月）", "3,715.95",
		"銷售額合計", "11,714", "營業稅（5%）", "586", "壹萬貳仟參佰元整", "計費月份：2026-10")
}

func TestInvoiceB2CText(t *testing.T) {
	r := testRenderer(t)
	inv := b2cInvoice()
	doc := render(t, func(b *bytes.Buffer) error {
		return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{Reprint: true})
	})
	text := pdftest.Text(t, doc)
	// Issued 2026-11-30T17:30Z = 1 Dec 01:30 in Taipei: still period 11-12.
	pdftest.MustContain(t, text, "115年11-12月", "CD-00000042", "2026-12-01 01:30:00", "總計 5,500",
		"總計（含稅）", "載具：/ABC+123", "伍仟伍佰元整", "補印", "儲值參考編號：TOPUP-7788")
	for _, absent := range []string{"買方", "格式 25", "營業稅（5%）"} {
		if strings.Contains(text, absent) {
			t.Errorf("B2C proof shows %q", absent)
		}
	}
}

func TestInvoiceVoidMark(t *testing.T) {
	r := testRenderer(t)
	inv := b2bInvoice()
	v := &VoidMark{Reason: "買受人統一編號誤植", At: inv.IssuedAt.Add(26 * 3600e9)}
	doc := render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{Void: v}) })
	pdftest.MustContain(t, pdftest.Text(t, doc), "本發票已作廢", "作廢日期 2026-11-06 16:30:00", "作廢原因：買受人統一編號誤植", "AB-12345678")
}

// The barcodes must decode, from the rendered page, to exactly what the MOF
// spec says they carry.
func TestInvoiceBarcodesDecode(t *testing.T) {
	r := testRenderer(t)
	key, _ := twrules.ParseQRKey(testKey)
	printed := b2cInvoice()
	printed.Carrier = "" // a carrier's invoice prints no proof
	for _, inv := range []domain.InvoiceIssued{b2bInvoice(), printed} {
		t.Run(inv.Kind, func(t *testing.T) {
			doc := render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{}) })
			proof := proofOf(inv, testSeller())
			wantLeft, wantRight, err := proof.QRContents(key, twrules.DefaultQRBudget)
			if err != nil {
				t.Fatal(err)
			}
			const dpi = 200
			page := pdftest.Rasterize(t, doc, dpi)
			q := 4.0 // quiet zone around each code, mm
			if got := pdftest.DecodeQR(t, pdftest.Crop(page, dpi, qrLeftX-q, qrY-q, qrSize+2*q, qrSize+2*q)); got != wantLeft {
				t.Errorf("left QR = %q\nwant     %q", got, wantLeft)
			}
			if got := pdftest.DecodeQR(t, pdftest.Crop(page, dpi, qrRightX-q, qrY-q, qrSize+2*q, qrSize+2*q)); got != wantRight {
				t.Errorf("right QR = %q, want %q", got, wantRight)
			}
			if len(wantLeft) < 77 || wantLeft[:10] != inv.Number {
				t.Errorf("left QR header %q", wantLeft)
			}
			bars := pdftest.Crop(page, dpi, margin, code39Y, contentW, code39H)
			want39 := twrules.PeriodOf(inv.IssuedAt).Code() + inv.Number + inv.RandomCode
			if got := pdftest.DecodeCode39(t, bars); got != want39 || len(got) != 19 {
				t.Errorf("Code 39 = %q, want %q", got, want39)
			}
		})
	}
}

// Short content would give a version-5 QR at level L; the encoder raises the
// level until the left code has the spec's 41 modules.
func TestLeftQRMinimumVersion(t *testing.T) {
	short := strings.Repeat("A", 77) + ":**********:0:0:1"
	code, err := encodeQR(short, minLeftQRModules)
	if err != nil {
		t.Fatal(err)
	}
	if n := code.Bounds().Dx(); n < 41 {
		t.Errorf("left QR has %d modules, want ≥ 41", n)
	}
	if _, err := encodeQR("x", 200); err == nil {
		t.Error("impossible minimum accepted")
	}
}

func TestInvoiceDeterministic(t *testing.T) {
	r := testRenderer(t)
	inv := b2bInvoice()
	a := render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{}) })
	b := render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{}) })
	if !bytes.Equal(a, b) {
		t.Fatal("same event rendered twice gives different bytes")
	}
	// A second renderer (fresh font load) gives the same bytes too.
	c := render(t, func(b *bytes.Buffer) error {
		return testRenderer(t).RenderInvoice(b, inv, testSeller(), InvoiceOptions{})
	})
	if !bytes.Equal(a, c) {
		t.Fatal("a fresh renderer gives different bytes")
	}
	if !bytes.Contains(a, []byte("/CreationDate (D:20261105063000")) {
		t.Error("creation date is not the issue time")
	}
	inv.RandomCode = "4321"
	d := render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{}) })
	if bytes.Equal(a, d) {
		t.Fatal("different events give the same bytes")
	}
}

func TestInvoiceRejects(t *testing.T) {
	r := testRenderer(t)
	cases := map[string]func(*domain.InvoiceIssued){
		"bad number":   func(i *domain.InvoiceIssued) { i.Number = "AB123" },
		"bad buyer":    func(i *domain.InvoiceIssued) { i.BuyerTaxID = "12345678" },
		"sum mismatch": func(i *domain.InvoiceIssued) { i.Tax = 585 },
		"zero total":   func(i *domain.InvoiceIssued) { i.Sales, i.Tax, i.Total = 0, 0, 0 },
		"no lines":     func(i *domain.InvoiceIssued) { i.Lines = nil },
		"unknown kind": func(i *domain.InvoiceIssued) { i.Kind = "b2x" },
		"bad random":   func(i *domain.InvoiceIssued) { i.RandomCode = "12" },
	}
	for name, mut := range cases {
		inv := b2bInvoice()
		mut(&inv)
		var buf bytes.Buffer
		if err := r.RenderInvoice(&buf, inv, testSeller(), InvoiceOptions{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	noKey, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := noKey.RenderInvoice(&bytes.Buffer{}, b2bInvoice(), testSeller(), InvoiceOptions{}); !errors.Is(err, ErrNoQRKey) {
		t.Errorf("no key: %v", err)
	}
}

// A character the font lacks must stop rendering, not print a blank box.
func TestInvoiceMissingGlyph(t *testing.T) {
	r := testRenderer(t)
	inv := b2bInvoice()
	inv.BuyerName = "測試公司😀"
	err := r.RenderInvoice(&bytes.Buffer{}, inv, testSeller(), InvoiceOptions{})
	var mg *MissingGlyphsError
	if !errors.As(err, &mg) || len(mg.Runes) != 1 || mg.Runes[0] != '😀' {
		t.Fatalf("err = %v", err)
	}
}

// Proofs render concurrently from one Renderer (the monthly close runs a
// worker per core).
func TestInvoiceConcurrent(t *testing.T) {
	r := testRenderer(t)
	want := render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, b2bInvoice(), testSeller(), InvoiceOptions{}) })
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			var b bytes.Buffer
			err := r.RenderInvoice(&b, b2bInvoice(), testSeller(), InvoiceOptions{})
			if err == nil && !bytes.Equal(b.Bytes(), want) {
				err = errors.New("concurrent render differs")
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// docFuncs renders one document of every kind.
var docFuncs = map[string]func(*Renderer, *bytes.Buffer) error{
	"b2b": func(r *Renderer, b *bytes.Buffer) error {
		return r.RenderInvoice(b, b2bInvoice(), testSeller(), InvoiceOptions{})
	},
	"b2b-void": func(r *Renderer, b *bytes.Buffer) error {
		return r.RenderInvoice(b, b2bInvoice(), testSeller(), InvoiceOptions{Void: &VoidMark{Reason: "重開", At: b2bInvoice().IssuedAt}})
	},
	"b2c": func(r *Renderer, b *bytes.Buffer) error {
		return r.RenderInvoice(b, b2cInvoice(), testSeller(), InvoiceOptions{})
	},
	"quote": func(r *Renderer, b *bytes.Buffer) error { return r.RenderQuote(b, testQuote(), testSeller()) },
	"contract": func(r *Renderer, b *bytes.Buffer) error {
		return r.RenderContract(b, testContract(), testQuote(), testSeller(), ContractOptions{})
	},
	"allowance": func(r *Renderer, b *bytes.Buffer) error {
		inv := b2bInvoice()
		return r.RenderAllowance(b, domainAllowance(), inv.IssuedAt, inv, testSeller())
	},
}

var (
	streamRE = regexp.MustCompile(`(?s)stream\n(.*?)endstream`)
	fontIDRE = regexp.MustCompile(`/F[0-9a-f]{40}`)
	lengthRE = regexp.MustCompile(`/Length \d+`)
)

// normalized inflates every stream and blanks gofpdf's font resource name
// (a hash over the font's width table, which differs between a subset and
// the full font) and the compressed lengths and offsets that follow from it.
func normalized(t *testing.T, doc []byte) string {
	t.Helper()
	out := streamRE.ReplaceAllFunc(doc, func(m []byte) []byte {
		body := streamRE.FindSubmatch(m)[1]
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			return m
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("inflate: %v", err)
		}
		return append(append([]byte("stream\n"), plain...), "endstream"...)
	})
	out = lengthRE.ReplaceAll(out, []byte("/Length <n>"))
	if i := bytes.LastIndex(out, []byte("\nxref\n")); i >= 0 {
		out = out[:i] // byte offsets shift with the compressed lengths
	}
	return string(fontIDRE.ReplaceAll(out, []byte("/F<font>")))
}

// The per-document font subset is an optimisation only: apart from the font
// resource name, every stream (font program, widths, ToUnicode, page
// content) equals that of a rendering on the whole font.
func TestSubsetMatchesFullFont(t *testing.T) {
	sub := testRenderer(t)
	full := testRenderer(t)
	full.fullFont = true
	for name, fn := range docFuncs {
		a := render(t, func(b *bytes.Buffer) error { return fn(sub, b) })
		b := render(t, func(b *bytes.Buffer) error { return fn(full, b) })
		if normalized(t, a) != normalized(t, b) {
			t.Errorf("%s: subset rendering differs from full-font rendering", name)
		}
	}
}

// Output depends on the document only, not on what the renderer drew before
// (its subset guesses).
func TestOutputIndependentOfHistory(t *testing.T) {
	fresh := map[string][]byte{}
	for name, fn := range docFuncs {
		fresh[name] = render(t, func(b *bytes.Buffer) error { return fn(testRenderer(t), b) })
	}
	warm := testRenderer(t)
	for round := 0; round < 2; round++ {
		for name, fn := range docFuncs {
			got := render(t, func(b *bytes.Buffer) error { return fn(warm, b) })
			if !bytes.Equal(got, fresh[name]) {
				t.Errorf("round %d: %s differs from a fresh renderer's", round, name)
			}
		}
	}
}

// A variant's label characters are learned from the first proofs (a label
// character that also occurs in their data is learned once a proof lacks it
// there); afterwards proofs of that variant, for other buyers and lines, are
// laid out once: the subset guess is exact.
func TestSubsetGuessHits(t *testing.T) {
	r := testRenderer(t)
	variant := func(number, buyer, taxID, line string) domain.InvoiceIssued {
		inv := b2bInvoice()
		inv.Number, inv.BuyerName, inv.BuyerTaxID = number, buyer, taxID
		inv.Lines[0].Description = line
		return inv
	}
	warm := []domain.InvoiceIssued{
		b2bInvoice(),
		variant("AB12345679", "鴻海精密工業股份有限公司", "04595257", "AI API 呼叫費用（2026年10月）"),
		variant("AB12345680", "宏碁股份有限公司", "10458575", "模型推論服務（2026年9月）"),
	}
	for _, inv := range warm {
		render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{}) })
	}
	next := variant("AB12345681", "國立臺灣大學", "04595252", "嵌入向量服務（2026年10月）")
	next.Sales, next.Tax, next.Total = 95238, 4762, 100000
	before := r.layouts.Load()
	render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, next, testSeller(), InvoiceOptions{}) })
	if n := r.layouts.Load() - before; n != 1 {
		t.Errorf("proof after warm-up took %d layout passes, want 1", n)
	}
}

// An invoice that bills several top-ups names every one of them, so that
// each payment can be matched to it.
func TestInvoiceNamesEveryTopUp(t *testing.T) {
	r := testRenderer(t)
	inv := b2cInvoice()
	inv.TopUps = []string{"BULK-01", "BULK-02", "TOPUP-7788"}
	doc := render(t, func(b *bytes.Buffer) error { return r.RenderInvoice(b, inv, testSeller(), InvoiceOptions{}) })
	text := pdftest.Text(t, doc)
	pdftest.MustContain(t, text, "儲值參考編號：BULK-01、BULK-02、TOPUP-7788")
}
