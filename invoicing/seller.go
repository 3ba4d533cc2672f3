package invoicing

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// DevQRKeyHex is a made-up AES key for development and tests ONLY: QR codes
// signed with it fail the MOF's verification. Production sets
// ROUTEFREE_INVOICE_AES_KEY to the key from the MOF key tool.
const DevQRKeyHex = "6A1F9E2C4B7D8E0F13579BDF2468ACE0"

// SellerConfig is RouteFree's own company as printed on every document, plus
// the issuer's QR key and the font of the PDFs.
type SellerConfig struct {
	Name        string // ROUTEFREE_SELLER_NAME
	TaxID       string // ROUTEFREE_SELLER_TAX_ID, 統一編號 (checksum validated)
	Address     string // ROUTEFREE_SELLER_ADDRESS
	Phone       string // ROUTEFREE_SELLER_PHONE
	Email       string // ROUTEFREE_SELLER_EMAIL
	Contact     string // ROUTEFREE_SELLER_CONTACT (聯絡人)
	Responsible string // ROUTEFREE_SELLER_RESPONSIBLE (負責人)
	BankAccount string // ROUTEFREE_SELLER_BANK_ACCOUNT (payment terms on quotes)
	QRKeyHex    string // ROUTEFREE_INVOICE_AES_KEY, 32 hex digits
	FontPath    string // ROUTEFREE_INVOICE_FONT; empty: the embedded font
}

// DevSeller is the development default: a fictitious company whose
// 統一編號 passes the checksum, and the labelled test QR key.
func DevSeller() SellerConfig {
	return SellerConfig{
		Name: "路由自由股份有限公司", TaxID: "12345675", Address: "臺北市信義區市府路45號",
		Phone: "02-2720-1234", Email: "billing@routefree.tw", Contact: "財務部",
		Responsible: "陳大文", BankAccount: "臺灣銀行 信義分行 012-345678-90",
		QRKeyHex: DevQRKeyHex,
	}
}

// SellerFromEnv reads the ROUTEFREE_SELLER_* variables, ROUTEFREE_INVOICE_AES_KEY
// and ROUTEFREE_INVOICE_FONT over DevSeller's defaults. getenv is os.Getenv
// when nil. Call Validate on the result.
func SellerFromEnv(getenv func(string) string) SellerConfig {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := DevSeller()
	for _, f := range sellerVars(&c) {
		if v := strings.TrimSpace(getenv(f.env)); v != "" {
			*f.dst = v
		}
	}
	return c
}

// SellerEnv names the variables SellerFromEnv reads.
func SellerEnv() []string {
	var names []string
	for _, f := range sellerVars(&SellerConfig{}) {
		names = append(names, f.env)
	}
	return names
}

// sellerVar is a variable of the seller and the field it sets.
type sellerVar struct {
	env string
	dst *string
}

// sellerVars are the seller's variables, setting the fields of c.
func sellerVars(c *SellerConfig) []sellerVar {
	return []sellerVar{
		{"ROUTEFREE_SELLER_NAME", &c.Name}, {"ROUTEFREE_SELLER_TAX_ID", &c.TaxID},
		{"ROUTEFREE_SELLER_ADDRESS", &c.Address}, {"ROUTEFREE_SELLER_PHONE", &c.Phone},
		{"ROUTEFREE_SELLER_EMAIL", &c.Email}, {"ROUTEFREE_SELLER_CONTACT", &c.Contact},
		{"ROUTEFREE_SELLER_RESPONSIBLE", &c.Responsible}, {"ROUTEFREE_SELLER_BANK_ACCOUNT", &c.BankAccount},
		{"ROUTEFREE_INVOICE_AES_KEY", &c.QRKeyHex}, {"ROUTEFREE_INVOICE_FONT", &c.FontPath},
	}
}

// IsDevKey reports whether the QR key is the development key.
func (c SellerConfig) IsDevKey() bool { return strings.EqualFold(c.QRKeyHex, DevQRKeyHex) }

// DevDefaults names the variables left at DevSeller's values (the QR key
// among them, the font not): documents issued so print a fictitious
// company's details, or carry QR codes the MOF's verification fails.
func (c SellerConfig) DevDefaults() []string {
	dev := DevSeller()
	var names []string
	own, devs := sellerVars(&c), sellerVars(&dev)
	for i, f := range own {
		if f.env == "ROUTEFREE_INVOICE_FONT" {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(*f.dst), *devs[i].dst) {
			names = append(names, f.env)
		}
	}
	return names
}

// Validate reports every problem at once.
func (c SellerConfig) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, errors.New("seller name (ROUTEFREE_SELLER_NAME) is required"))
	}
	if !domain.ValidTaxID(c.TaxID) {
		errs = append(errs, fmt.Errorf("seller 統一編號 %q (ROUTEFREE_SELLER_TAX_ID) fails its checksum", c.TaxID))
	}
	if strings.TrimSpace(c.Address) == "" {
		errs = append(errs, errors.New("seller address (ROUTEFREE_SELLER_ADDRESS) is required"))
	}
	if strings.TrimSpace(c.Responsible) == "" {
		errs = append(errs, errors.New("seller 負責人 (ROUTEFREE_SELLER_RESPONSIBLE) is required on quotes"))
	}
	if _, err := twrules.ParseQRKey(c.QRKeyHex); err != nil {
		errs = append(errs, fmt.Errorf("ROUTEFREE_INVOICE_AES_KEY: %w", err))
	}
	return errors.Join(errs...)
}

// Lengths of the seller's texts that MIG does not bound: an e-mail
// address is at most 254 characters (RFC 5321's path of 256, less its
// angle brackets); the contact (聯絡人: a department and a name, an
// extension) and the bank account to pay to (bank, branch, account
// number) stay within a line of a quote's header and a contract's
// payment terms.
const (
	maxSellerEmail   = 254
	maxSellerContact = 30
	maxSellerBank    = 60
)

// sellerTexts are the seller's variables that documents print, with
// their longest length and where it comes from.
func sellerTexts(c SellerConfig) []struct {
	env, text, source string
	max               int
} {
	return []struct {
		env, text, source string
		max               int
	}{
		{"ROUTEFREE_SELLER_NAME", c.Name, "MIG", mig.MaxName}, {"ROUTEFREE_SELLER_ADDRESS", c.Address, "MIG", mig.MaxAddress},
		{"ROUTEFREE_SELLER_PHONE", c.Phone, "MIG", mig.MaxPhone}, {"ROUTEFREE_SELLER_EMAIL", c.Email, "RFC 5321", maxSellerEmail},
		{"ROUTEFREE_SELLER_CONTACT", c.Contact, "a line of a quote", maxSellerContact},
		{"ROUTEFREE_SELLER_RESPONSIBLE", c.Responsible, "MIG", mig.MaxPersonInCharge},
		{"ROUTEFREE_SELLER_BANK_ACCOUNT", c.BankAccount, "a line of a quote", maxSellerBank},
	}
}

// checkTexts refuses seller texts that every document would carry but
// that MIG cannot file or a page cannot hold (too long), or r's font
// cannot print: refused at start, not on each invoice's issue or export.
func (c SellerConfig) checkTexts(r *pdf.Renderer) error {
	var errs []error
	for _, f := range sellerTexts(c) {
		if p := textProblem(f.env, f.text, f.max, false); p != "" {
			errs = append(errs, fmt.Errorf("%s (%s)", p, f.source))
			continue
		}
		chars, err := unprintableChars(r, f.text)
		if err != nil {
			return err
		}
		if chars != "" {
			errs = append(errs, fmt.Errorf("%s contains %s, which the documents' font cannot print", f.env, chars))
		}
	}
	return errors.Join(errs...)
}

// Snapshot is the seller as an invoice event records it at issue.
func (c SellerConfig) Snapshot() *domain.InvoiceSeller {
	return &domain.InvoiceSeller{Name: c.Name, TaxID: c.TaxID, Address: c.Address, Phone: c.Phone, Email: c.Email,
		Responsible: c.Responsible}
}

// documentSnapshot is the seller as a quote or contract event records it
// at issue: Snapshot with the contact and the account to pay to.
func (c SellerConfig) documentSnapshot() *domain.InvoiceSeller {
	s := c.Snapshot()
	s.Contact, s.BankAccount = c.Contact, c.BankAccount
	return s
}

// PDF is the seller as the PDF renderer prints it.
func (c SellerConfig) PDF() pdf.Seller {
	return pdf.Seller{Name: c.Name, TaxID: c.TaxID, Address: c.Address, Phone: c.Phone, Email: c.Email,
		Contact: c.Contact, Responsible: c.Responsible, BankAccount: c.BankAccount}
}

// MIG is the seller as the MIG messages name it.
func (c SellerConfig) MIG() mig.Seller {
	return mig.Seller{TaxID: c.TaxID, Name: c.Name, Address: c.Address, PersonInCharge: c.Responsible,
		Phone: c.Phone, Email: c.Email}
}
