// Package pdf renders RouteFree's Taiwanese documents with gofpdf and an
// embedded Traditional Chinese TrueType font: the A4 電子發票證明聯 (B2B and
// B2C, with the MOF Code 39 and two QR codes), the 折讓證明單, the
// government-style 報價單 and the service 契約書.
//
// Output is deterministic: the PDF dates are the document's own issue time
// and the resource catalogs are sorted, so rendering one event twice gives
// the same bytes.
package pdf
