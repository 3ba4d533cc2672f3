package mig

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Seller is RouteFree's own company as the messages name it.
type Seller struct {
	TaxID          string
	Name           string
	Address        string
	PersonInCharge string
	Phone          string
	Email          string
}

// consumerID is the buyer Identifier of a B2C invoice.
const consumerID = "0000000000"

// consumerName stands for a B2C buyer (Name is mandatory in the schema);
// the value the platform expects is not verified.
const consumerName = "消費者"

// Codes used by RouteFree's invoices.
const (
	invoiceTypeGeneral = "07" // 一般稅額計算
	taxTypeTaxable     = "1"  // 應稅
	taxRate            = "0.05"
	allowanceBySeller  = "2" // since 2025 the seller issues electronic allowances
)

func date(t time.Time) string  { return t.In(twrules.Taipei).Format("20060102") }
func clock(t time.Time) string { return t.In(twrules.Taipei).Format("15:04:05") }

// MaxCancelReason is the length of CancelReason in F0501 and G0501, in
// characters (XML Schema counts a string's length in characters, and
// every length in this package is counted so).
const MaxCancelReason = 20

// cancelReason is a void's reason as CancelReason carries it: cut to
// MaxCancelReason characters. Voids are refused a longer reason when they
// are made, but history keeps those recorded before, and their messages
// must still go out; the documents print the whole reason.
func cancelReason(reason string) string {
	if r := []rune(reason); len(r) > MaxCancelReason {
		return string(r[:MaxCancelReason])
	}
	return reason
}

// MaxName, MaxAddress, MaxPersonInCharge and MaxPhone are the lengths of
// a role's (the seller's or the buyer's) Name, Address, PersonInCharge
// and TelephoneNumber, in characters.
const (
	MaxName           = domain.MaxBuyerName
	MaxAddress        = 100
	MaxPersonInCharge = 30
	MaxPhone          = 26
)

// MaxDescription is the length of a line's Description (an allowance's
// OriginalDescription), in characters.
const MaxDescription = 500

// limit adds an error when s is longer than n characters (the schema's
// string lengths).
func limit(errs *[]error, field, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		*errs = append(*errs, fmt.Errorf("mig: %s longer than %d characters", field, n))
	}
}

// sellerOf is the seller of an invoice's messages: the one its event
// recorded at issue, or fallback for events issued before it did.
func sellerOf(inv domain.InvoiceIssued, fallback Seller) Seller {
	if e := inv.Seller; e != nil {
		return Seller{TaxID: e.TaxID, Name: e.Name, Address: e.Address, PersonInCharge: e.Responsible,
			Phone: e.Phone, Email: e.Email}
	}
	return fallback
}

func sellerRole(s Seller) (RoleDescription, []error) {
	var errs []error
	if !domain.ValidTaxID(s.TaxID) {
		errs = append(errs, fmt.Errorf("mig: seller 統一編號 %q fails its checksum", s.TaxID))
	}
	if s.Name == "" {
		errs = append(errs, errors.New("mig: seller name is required"))
	}
	limit(&errs, "seller name", s.Name, MaxName)
	limit(&errs, "seller address", s.Address, MaxAddress)
	limit(&errs, "seller person in charge", s.PersonInCharge, MaxPersonInCharge)
	limit(&errs, "seller telephone number", s.Phone, MaxPhone)
	return RoleDescription{Identifier: s.TaxID, Name: s.Name, Address: s.Address,
		PersonInCharge: s.PersonInCharge, TelephoneNumber: s.Phone, EmailAddress: s.Email}, errs
}

func buyerRole(inv domain.InvoiceIssued) (RoleDescription, []error) {
	if inv.Kind != "b2b" {
		return RoleDescription{Identifier: consumerID, Name: consumerName}, nil
	}
	var errs []error
	if !domain.ValidTaxID(inv.BuyerTaxID) {
		errs = append(errs, fmt.Errorf("mig: buyer 統一編號 %q fails its checksum", inv.BuyerTaxID))
	}
	if inv.BuyerName == "" {
		errs = append(errs, errors.New("mig: B2B buyer name is required"))
	}
	limit(&errs, "buyer name", inv.BuyerName, domain.MaxBuyerName)
	return RoleDescription{Identifier: inv.BuyerTaxID, Name: inv.BuyerName}, errs
}

// BuildF0401 maps an invoice to its F0401 message.
//
// Amounts (MIG 4.1, F0401 Amount block, SalesAmount and TaxAmount; see
// docs/invoicing.md): B2B carries the net 銷售額, the tax and the total.
// B2C is issued at 定價 (統一發票使用辦法 §9): the lines carry tax-inclusive
// amounts, SalesAmount is the tax-inclusive total and TaxAmount is 0. The
// lines add up to SalesAmount either way. G0401 encodes allowances the
// same way.
func BuildF0401(inv domain.InvoiceIssued, seller Seller) (*Invoice, error) {
	seller = sellerOf(inv, seller)
	var errs []error
	if _, err := twrules.ParseInvoiceNumber(inv.Number); err != nil {
		errs = append(errs, err)
	}
	if inv.Kind != "b2b" && inv.Kind != "b2c" {
		errs = append(errs, fmt.Errorf("mig: invoice kind %q: want b2b or b2c", inv.Kind))
	}
	if !twrules.ValidRandomCode(inv.RandomCode) {
		errs = append(errs, fmt.Errorf("mig: random code %q: want 4 digits", inv.RandomCode))
	}
	if inv.Sales+inv.Tax != inv.Total || inv.Total <= 0 {
		errs = append(errs, fmt.Errorf("mig: sales %d + tax %d ≠ total %d (or not positive)", inv.Sales, inv.Tax, inv.Total))
	}
	if p := twrules.PeriodOf(inv.IssuedAt).String(); inv.Period != "" && inv.Period != p {
		errs = append(errs, fmt.Errorf("mig: invoice period %s, but issued in period %s", inv.Period, p))
	}
	if len(inv.Lines) == 0 || len(inv.Lines) > 9999 {
		errs = append(errs, fmt.Errorf("mig: %d lines: want 1 to 9999", len(inv.Lines)))
	}
	s, e := sellerRole(seller)
	errs = append(errs, e...)
	b, e := buyerRole(inv)
	errs = append(errs, e...)

	m := InvoiceMain{
		InvoiceNumber: inv.Number, InvoiceDate: date(inv.IssuedAt), InvoiceTime: clock(inv.IssuedAt),
		Seller: s, Buyer: b, InvoiceType: invoiceTypeGeneral, DonateMark: "0", PrintMark: "Y",
		RandomNumber: inv.RandomCode,
	}
	if inv.Kind == "b2c" {
		switch {
		case inv.DonationCode != "":
			if !twrules.ValidDonationCode(inv.DonationCode) {
				errs = append(errs, fmt.Errorf("mig: donation code %q: want 3 to 7 digits", inv.DonationCode))
			}
			m.DonateMark, m.NPOBAN, m.PrintMark = "1", inv.DonationCode, "N"
		case inv.Carrier != "":
			ct := twrules.CarrierTypeOf(inv.Carrier)
			if ct == "" {
				errs = append(errs, fmt.Errorf("mig: carrier %q is neither a mobile barcode nor a citizen certificate", inv.Carrier))
			}
			m.CarrierType, m.CarrierId1, m.CarrierId2, m.PrintMark = ct, inv.Carrier, inv.Carrier, "N"
		}
	}
	out := &Invoice{Xmlns: NamespaceF0401, Main: m}
	for i, l := range inv.Lines {
		limit(&errs, "line description", l.Description, MaxDescription)
		limit(&errs, "line unit", l.Unit, 6)
		out.Details = append(out.Details, ProductItem{
			Description: l.Description, Quantity: l.Quantity.String(), Unit: l.Unit,
			UnitPrice: l.UnitPrice.StringFixed(2), TaxType: taxTypeTaxable, Amount: l.Amount.StringFixed(2),
			SequenceNumber: strconv.Itoa(i + 1),
		})
	}
	amt := InvoiceAmount{
		SalesAmount: strconv.FormatInt(inv.Sales, 10), FreeTaxSalesAmount: "0", ZeroTaxSalesAmount: "0",
		TaxType: taxTypeTaxable, TaxRate: taxRate, TaxAmount: strconv.FormatInt(inv.Tax, 10),
		TotalAmount: strconv.FormatInt(inv.Total, 10),
	}
	if inv.Kind == "b2c" {
		amt.SalesAmount, amt.TaxAmount = strconv.FormatInt(inv.Total, 10), "0"
	}
	out.Amount = amt
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mig: F0401 %s: %w", inv.Number, err)
	}
	return out, nil
}

// Void is a void (作廢) with what F0501 needs besides the event: the
// voided invoice and the time of the void (the event's occurred-at).
type Void struct {
	Invoice domain.InvoiceIssued
	Event   domain.InvoiceVoided
	At      time.Time
}

// BuildF0501 maps a void to its F0501 message.
func BuildF0501(v Void, seller Seller) (*CancelInvoice, error) {
	seller = sellerOf(v.Invoice, seller)
	var errs []error
	if v.Event.Number != v.Invoice.Number {
		errs = append(errs, fmt.Errorf("mig: void of %s given invoice %s", v.Event.Number, v.Invoice.Number))
	}
	if v.Event.Reason == "" {
		errs = append(errs, errors.New("mig: a void needs a reason"))
	}
	if !domain.ValidTaxID(seller.TaxID) {
		errs = append(errs, fmt.Errorf("mig: seller 統一編號 %q fails its checksum", seller.TaxID))
	}
	if v.At.Before(v.Invoice.IssuedAt) {
		errs = append(errs, errors.New("mig: void before the invoice was issued"))
	}
	buyer, _ := buyerRole(v.Invoice)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mig: F0501 %s: %w", v.Event.Number, err)
	}
	out := &CancelInvoice{
		Xmlns: NamespaceF0501, CancelInvoiceNumber: v.Invoice.Number, InvoiceDate: date(v.Invoice.IssuedAt),
		BuyerId: buyer.Identifier, SellerId: seller.TaxID, CancelDate: date(v.At), CancelTime: clock(v.At),
		CancelReason: cancelReason(v.Event.Reason),
	}
	// A special void is filed as a void, with the approval in the field
	// that MIG keeps for it and, with its day, in the remark.
	if sv := v.Event.Special; sv != nil {
		out.ReturnTaxDocumentNumber = sv.Approval
		out.Remark = SpecialVoidRemark(*sv)
	}
	return out, nil
}

// SpecialVoidRemark is the remark of a special void's F0501: the tax
// office's approval and its day.
func SpecialVoidRemark(sv domain.SpecialVoid) string {
	return "專案作廢，核准文號 " + sv.Approval + "，核准日期 " + sv.ApprovedOn
}

// AllowanceDoc is an allowance with what G0401 needs besides the event: the
// original invoice and the time of issue (the event's occurred-at).
type AllowanceDoc struct {
	Invoice domain.InvoiceIssued
	Event   domain.AllowanceIssued
	At      time.Time
	// Seq orders the allowance among the allowances of its invoice and
	// their voids (its version in the invoice's stream); Earlier are the
	// invoice's allowances issued before it, in order of issue. Those live
	// when it was issued had taken their items of each line: it shares out
	// what they left.
	Seq     uint64
	Earlier []PriorAllowance
}

// PriorAllowance is an allowance issued before another of its invoice.
type PriorAllowance struct {
	Event domain.AllowanceIssued
	// Seq and VoidSeq are the versions of its issue and of its void (0
	// while it is live) in the invoice's stream.
	Seq, VoidSeq uint64
}

// itemAmounts shares an allowance among the lines of its invoice, to the
// cent: in proportion to what the allowances live at its issue left of
// each line, so that allowances together never take more of a line than
// it bills, and an invoice allowed in full has every line allowed in full.
// Each earlier allowance's items are those its own G0401 carried.
func itemAmounts(a AllowanceDoc) []decimal.Decimal {
	lines := make([]decimal.Decimal, len(a.Invoice.Lines))
	for i, l := range a.Invoice.Lines {
		lines[i] = decimal.Max(l.Amount, decimal.Zero)
	}
	all := append(slices.Clone(a.Earlier), PriorAllowance{Event: a.Event, Seq: a.Seq})
	took := make([][]decimal.Decimal, len(all))
	for k, cur := range all {
		left, sum := slices.Clone(lines), decimal.Zero
		for j := range k {
			if v := all[j].VoidSeq; v != 0 && v < cur.Seq {
				continue // voided before cur was issued
			}
			for i := range left {
				left[i] = left[i].Sub(took[j][i])
			}
		}
		for i := range left {
			left[i] = decimal.Max(left[i], decimal.Zero)
			sum = sum.Add(left[i])
		}
		amount := decimal.NewFromInt(allowanceAmount(a.Invoice.Kind, cur.Event))
		if sum.LessThan(amount) {
			left = lines // a history that left less: shared on the lines, as before
		}
		took[k] = twrules.Allocate(left, amount, 2)
	}
	return took[len(all)-1]
}

// allowanceAmount is what an allowance's items add up to, as its
// invoice's lines do: B2B net, B2C tax included.
func allowanceAmount(kind string, a domain.AllowanceIssued) int64 {
	if kind != "b2b" {
		return a.Sales + a.Tax
	}
	return a.Sales
}

// BuildG0401 maps an allowance to its G0401 message: one item per line of
// the original invoice, naming that line (OriginalSequenceNumber,
// OriginalDescription), the allowance shared among the lines in proportion
// to their amounts. Amounts follow the F0401 of the invoice (see
// BuildF0401): B2B net amounts with their tax, B2C tax-inclusive amounts
// with tax 0.
func BuildG0401(a AllowanceDoc, seller Seller) (*Allowance, error) {
	seller = sellerOf(a.Invoice, seller)
	var errs []error
	ev := a.Event
	if ev.InvoiceNumber != a.Invoice.Number {
		errs = append(errs, fmt.Errorf("mig: allowance against %s given invoice %s", ev.InvoiceNumber, a.Invoice.Number))
	}
	if ev.Number == "" || utf8.RuneCountInString(ev.Number) > 16 {
		errs = append(errs, fmt.Errorf("mig: allowance number %q: want 1 to 16 characters", ev.Number))
	}
	// The last allowance of an invoice may take only the tax left: its
	// sales may be zero, not its total.
	if ev.Sales < 0 || ev.Tax < 0 || ev.Sales+ev.Tax <= 0 || ev.Sales+ev.Tax > a.Invoice.Total {
		errs = append(errs, errors.New("mig: allowance amounts must be positive and within the invoice total"))
	}
	if len(a.Invoice.Lines) == 0 {
		errs = append(errs, errors.New("mig: the original invoice has no lines"))
	}
	s, e := sellerRole(seller)
	errs = append(errs, e...)
	b, e := buyerRole(a.Invoice)
	errs = append(errs, e...)
	for _, l := range a.Invoice.Lines {
		limit(&errs, "original description", l.Description, MaxDescription)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mig: G0401 %s: %w", ev.Number, err)
	}
	amount, tax := ev.Sales, ev.Tax
	if a.Invoice.Kind != "b2b" {
		amount, tax = ev.Sales+ev.Tax, 0
	}
	weights := make([]decimal.Decimal, len(a.Invoice.Lines))
	for i, l := range a.Invoice.Lines {
		weights[i] = l.Amount
	}
	amounts := itemAmounts(a)
	taxes := twrules.Allocate(weights, decimal.NewFromInt(tax), 0)
	out := &Allowance{
		Xmlns: NamespaceG0401,
		Main: AllowanceMain{AllowanceNumber: ev.Number, AllowanceDate: date(a.At), Seller: s, Buyer: b,
			AllowanceType: allowanceBySeller},
		Amount: AllowanceAmount{TaxAmount: strconv.FormatInt(tax, 10), TotalAmount: strconv.FormatInt(amount, 10)},
	}
	for i, l := range a.Invoice.Lines {
		if amounts[i].IsZero() && taxes[i].IsZero() {
			continue
		}
		seq := strconv.Itoa(i + 1)
		out.Details = append(out.Details, AllowanceItem{
			OriginalInvoiceDate: date(a.Invoice.IssuedAt), OriginalInvoiceNumber: a.Invoice.Number,
			OriginalSequenceNumber: seq, OriginalDescription: l.Description, Quantity: "1", Unit: l.Unit,
			UnitPrice: amounts[i].StringFixed(2), Amount: amounts[i].StringFixed(2), Tax: taxes[i].String(),
			AllowanceSequenceNumber: strconv.Itoa(len(out.Details) + 1), TaxType: taxTypeTaxable,
		})
	}
	return out, nil
}

// AllowanceVoid is the void of an allowance with what G0501 needs besides
// the event: the allowance, its invoice and the time of the void.
type AllowanceVoid struct {
	Invoice   domain.InvoiceIssued
	Allowance domain.AllowanceIssued
	IssuedAt  time.Time // of the allowance
	Event     domain.AllowanceVoided
	At        time.Time
}

// BuildG0501 maps the void of an allowance to its G0501 message, whose
// fields mirror F0501's (from implementations of the former B0501/D0501).
// Its seller is its invoice's, as in the allowance's G0401.
func BuildG0501(v AllowanceVoid, seller Seller) (*CancelAllowance, error) {
	seller = sellerOf(v.Invoice, seller)
	var errs []error
	if v.Event.Number != v.Allowance.Number || v.Allowance.InvoiceNumber != v.Invoice.Number {
		errs = append(errs, fmt.Errorf("mig: void of allowance %s given allowance %s of invoice %s", v.Event.Number, v.Allowance.Number, v.Invoice.Number))
	}
	if v.Event.Reason == "" {
		errs = append(errs, errors.New("mig: a void needs a reason"))
	}
	if !domain.ValidTaxID(seller.TaxID) {
		errs = append(errs, fmt.Errorf("mig: seller 統一編號 %q fails its checksum", seller.TaxID))
	}
	if v.At.Before(v.IssuedAt) {
		errs = append(errs, errors.New("mig: void before the allowance was issued"))
	}
	buyer, _ := buyerRole(v.Invoice)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mig: G0501 %s: %w", v.Event.Number, err)
	}
	return &CancelAllowance{
		Xmlns: NamespaceG0501, CancelAllowanceNumber: v.Allowance.Number, AllowanceDate: date(v.IssuedAt),
		BuyerId: buyer.Identifier, SellerId: seller.TaxID, CancelDate: date(v.At), CancelTime: clock(v.At),
		CancelReason: cancelReason(v.Event.Reason),
	}, nil
}
