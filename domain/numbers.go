package domain

// TypeInvoiceNumbersSkipped takes numbers of a period's ranges out of use.
const TypeInvoiceNumbersSkipped = "invoice.numbers_skipped"

// InvoiceNumbersSkipped records that the numbers after the last one the
// history issued, through Through, were used outside it (invoices issued
// by a store since lost, found in Turnkey's folders or on the platform):
// they are never issued again, and they are not reported as blank. It is
// appended to the period's range stream, so that it is ordered with the
// invoices numbered from it.
type InvoiceNumbersSkipped struct {
	Period  string `json:"period"`  // first month of the two-month period
	Through string `json:"through"` // the last number taken out of use, e.g. AB12345010
	Count   int64  `json:"count"`   // how many numbers it took out of use
	Reason  string `json:"reason"`  // finance's own words, for the auditors
	Actor   Actor  `json:"actor"`   // who caused it
}

func (InvoiceNumbersSkipped) EventType() string  { return TypeInvoiceNumbersSkipped }
func (InvoiceNumbersSkipped) SchemaVersion() int { return 1 }
func (e *InvoiceNumbersSkipped) ActedBy() *Actor { return &e.Actor }

func init() {
	factories[TypeInvoiceNumbersSkipped] = func() Event { return &InvoiceNumbersSkipped{} }
}

// TypeInvoiceRangeWithdrawn takes back a range no number was used from.
const TypeInvoiceRangeWithdrawn = "invoice.range_withdrawn"

// InvoiceRangeWithdrawn records that a range assigned to a period (most
// often one typed for the wrong period, or with the wrong 字軌 or numbers)
// was not the tax office's: it numbers nothing and is reported blank
// nowhere. It is appended to the period's range stream, expecting the
// stream as read, so that no invoice is numbered from it meanwhile; a
// range any number was used from is never withdrawn.
type InvoiceRangeWithdrawn struct {
	Period string `json:"period"` // first month of the two-month period
	Prefix string `json:"prefix"`
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Reason string `json:"reason"` // finance's own words, for the auditors
	Actor  Actor  `json:"actor"`  // who caused it
}

func (InvoiceRangeWithdrawn) EventType() string  { return TypeInvoiceRangeWithdrawn }
func (InvoiceRangeWithdrawn) SchemaVersion() int { return 1 }
func (e *InvoiceRangeWithdrawn) ActedBy() *Actor { return &e.Actor }

func init() {
	factories[TypeInvoiceRangeWithdrawn] = func() Event { return &InvoiceRangeWithdrawn{} }
}
