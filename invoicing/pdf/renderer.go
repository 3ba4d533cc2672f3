package pdf

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jung-kurt/gofpdf"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Config sets up a Renderer.
type Config struct {
	// FontPath names a TrueType (.ttf, glyf outlines; not .ttc or CFF .otf)
	// font to use instead of the embedded AR PL Mingti2L Big5, e.g.
	// /usr/share/fonts/truetype/cns11643/TW-Sung-98_1.ttf for rare characters.
	FontPath string
	// QRKeyHex is the issuer's AES-128 key for the QR verification field,
	// 32 hex digits from the MOF key tool. Required for invoices.
	QRKeyHex string
	// QRBudget caps the bytes of each QR code; zero means
	// twrules.DefaultQRBudget.
	QRBudget twrules.QRBudget
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.QRKeyHex != "" {
		if _, err := twrules.ParseQRKey(c.QRKeyHex); err != nil {
			errs = append(errs, err)
		}
	}
	if c.QRBudget != (twrules.QRBudget{}) && (c.QRBudget.Left < 120 || c.QRBudget.Right < 40) {
		errs = append(errs, fmt.Errorf("pdf: QR budget %+v too small (left ≥ 120, right ≥ 40 bytes)", c.QRBudget))
	}
	return errors.Join(errs...)
}

// Seller is RouteFree's own company as printed on every document.
type Seller struct {
	Name        string // full registered name
	TaxID       string // 統一編號
	Address     string
	Phone       string
	Email       string
	Contact     string // 聯絡人
	Responsible string // 負責人
	BankAccount string // for payment terms on quotes and contracts
}

// sellerOf is the seller an invoice prints: the one its event recorded at
// issue, or fallback for events issued before the event held it.
func sellerOf(inv domain.InvoiceIssued, fallback Seller) Seller {
	return Recorded(inv.Seller, fallback)
}

// Recorded is the seller a document's event recorded at issue, or
// fallback when the event holds none (issued before it was recorded).
func Recorded(e *domain.InvoiceSeller, fallback Seller) Seller {
	if e == nil {
		return fallback
	}
	return Seller{Name: e.Name, TaxID: e.TaxID, Address: e.Address, Phone: e.Phone, Email: e.Email,
		Contact: e.Contact, Responsible: e.Responsible, BankAccount: e.BankAccount}
}

// Renderer renders documents; it holds the font in memory and is safe for
// concurrent use.
type Renderer struct {
	font   *font
	qrKey  []byte
	budget twrules.QRBudget

	// labels holds, per document kind, the characters of its fixed labels:
	// the first guess of a document's font subset (see render).
	mu     sync.RWMutex
	labels map[string]map[rune]bool
	// fullFont hands gofpdf the whole font instead of a subset (tests
	// compare the two).
	fullFont bool
	// layouts counts layout passes (tests check the subset guess hits).
	layouts atomic.Int64
}

// New loads the font once and checks the configuration.
func New(cfg Config) (*Renderer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f, err := loadFont(cfg.FontPath)
	if err != nil {
		return nil, err
	}
	r := &Renderer{font: f, budget: cfg.QRBudget, labels: map[string]map[rune]bool{}}
	if r.budget == (twrules.QRBudget{}) {
		r.budget = twrules.DefaultQRBudget
	}
	if cfg.QRKeyHex != "" {
		r.qrKey, _ = twrules.ParseQRKey(cfg.QRKeyHex)
	}
	return r, nil
}

// A4 page geometry in mm.
const (
	pageW    = 210.0
	margin   = 15.0
	contentW = pageW - 2*margin
)

// newDoc starts an A4 document whose metadata is fixed by the document's own
// time, so that the bytes depend on the event only.
func (r *Renderer) newDoc(title string, at time.Time, fontData []byte, page gofpdf.SizeType) *gofpdf.Fpdf {
	// fontDir "/" keeps gofpdf from joining paths onto "."; we load from bytes anyway.
	pdf := gofpdf.NewCustom(&gofpdf.InitType{OrientationStr: "P", UnitStr: "mm", Size: page, FontDirStr: "/"})
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(at.UTC())
	pdf.SetModificationDate(at.UTC())
	pdf.SetProducer("RouteFree", false)
	pdf.SetCreator("RouteFree", false)
	pdf.SetTitle(title, true)
	m := margin
	if page.Wd < pageW {
		m = thermalMargin
	}
	pdf.SetMargins(m, m, m)
	pdf.SetAutoPageBreak(true, m)
	pdf.AddUTF8FontFromBytes(fontFamily, "", fontData)
	pdf.AddPage()
	pdf.SetFont(fontFamily, "", 10)
	return pdf
}

// finish writes the document or returns the first error gofpdf recorded.
func finish(pdf *gofpdf.Fpdf, w io.Writer) error {
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return nil
}
