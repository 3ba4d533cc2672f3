// Package invoicing turns the event history into Taiwanese tax documents:
// it issues invoices as events (payments when received, but for what pays
// usage already billed; postpaid usage at the month's close), allocates
// numbers from the period's range without gaps or duplicates, voids within
// the filing window, issues allowances, quotes and contracts, and renders
// every document as a PDF from its event, byte-identically, so an auditor's
// replay regenerates the same documents.
//
// Calendar rules (billing months, two-month periods) are Asia/Taipei's.
package invoicing
