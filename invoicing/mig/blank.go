package mig

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// NamespaceE0402 is the namespace of the blank-number message.
const NamespaceE0402 = "urn:GEINV:eInvoiceMessage:E0402:" + Version

// BranchTrackBlank is the E0402 message: the numbers of one 字軌 of a
// two-month period that were assigned and never used (空白未使用字軌),
// uploaded within ten days after the next period starts.
type BranchTrackBlank struct {
	XMLName xml.Name      `xml:"BranchTrackBlank"`
	Xmlns   string        `xml:"xmlns,attr"`
	Main    BlankMain     `xml:"Main"`
	Details []BlankNumber `xml:"Details>BranchTrackBlankItem"`
}

// BlankMain names the seller, the period and the 字軌.
type BlankMain struct {
	HeadBan      string `xml:"HeadBan"`      // the seller's 統一編號
	BranchBan    string `xml:"BranchBan"`    // the same: RouteFree issues as one business
	InvoiceType  string `xml:"InvoiceType"`  // 07: general tax rate
	YearMonth    string `xml:"YearMonth"`    // ROC year and the period's even month, "11512"
	InvoiceTrack string `xml:"InvoiceTrack"` // the two letters
}

// BlankNumber is one run of unused numbers, both ends included.
type BlankNumber struct {
	InvoiceBeginNo string `xml:"InvoiceBeginNo"`
	InvoiceEndNo   string `xml:"InvoiceEndNo"`
}

// Blank is what one E0402 reports: a 字軌's unused runs in a period.
type Blank struct {
	Period twrules.Period
	Track  string
	Runs   []twrules.Range // each of Track, From ≤ To
	// Seller is the seller the period's invoices recorded at issue, whose
	// numbers these are; nil: the seller the message is built with.
	Seller *domain.InvoiceSeller
}

// BuildE0402 checks and builds the E0402 message of b, naming b's seller,
// else seller.
func BuildE0402(b Blank, seller Seller) (*BranchTrackBlank, error) {
	seller = sellerOf(domain.InvoiceIssued{Seller: b.Seller}, seller)
	var errs []error
	if !domain.ValidTaxID(seller.TaxID) {
		errs = append(errs, fmt.Errorf("mig: seller 統一編號 %q fails its checksum", seller.TaxID))
	}
	if len(b.Runs) == 0 {
		errs = append(errs, errors.New("mig: no unused numbers to report"))
	}
	msg := &BranchTrackBlank{Xmlns: NamespaceE0402, Main: BlankMain{HeadBan: seller.TaxID, BranchBan: seller.TaxID,
		InvoiceType: invoiceTypeGeneral, YearMonth: b.Period.Code(), InvoiceTrack: b.Track}}
	for _, r := range b.Runs {
		if r.Prefix != b.Track || r.Validate() != nil {
			errs = append(errs, fmt.Errorf("mig: run %s is not one of 字軌 %s", r, b.Track))
			continue
		}
		msg.Details = append(msg.Details, BlankNumber{InvoiceBeginNo: fmt.Sprintf("%08d", r.From), InvoiceEndNo: fmt.Sprintf("%08d", r.To)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mig: E0402 %s %s: %w", b.Period, b.Track, err)
	}
	return msg, nil
}

// ExportE0402 writes a zip with E0402_<period code>_<track>.xml per 字軌;
// nothing is written to w unless every message is valid.
func ExportE0402(w io.Writer, blanks []Blank, seller Seller) error {
	msgs := make([]*BranchTrackBlank, len(blanks))
	for i, b := range blanks {
		m, err := BuildE0402(b, seller)
		if err != nil {
			return err
		}
		msgs[i] = m
	}
	zw := zip.NewWriter(w)
	for i, b := range blanks {
		// Stamped with the period's end: the archive is the same bytes for the same ranges.
		if err := addFile(zw, E0402FileName(b.Period, b.Track), b.Period.End().Add(-time.Second), func(f io.Writer) error {
			return write(f, msgs[i])
		}); err != nil {
			return err
		}
	}
	return zw.Close()
}

// E0402FileName is the file of one 字軌's E0402, the same in an export's
// zip and in Turnkey's folders: E0402_<ROC year and even month>_<字軌>.xml.
func E0402FileName(p twrules.Period, track string) string {
	return "E0402_" + p.Code() + "_" + track + ".xml"
}

// WriteE0402 writes the E0402 document of one 字軌.
func WriteE0402(w io.Writer, b Blank, seller Seller) error {
	msg, err := BuildE0402(b, seller)
	if err != nil {
		return err
	}
	return write(w, msg)
}
