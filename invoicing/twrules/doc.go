// Package twrules holds Taiwan's e-invoice and quotation rules as pure
// functions: ROC dates, two-month invoice periods and their filing days
// (moved past weekends and rest days, calendar.go), 5 % business tax, capital
// numerals, invoice numbers and ranges, carriers, and the contents of the
// printed proof's Code 39 and QR barcodes (MOF 電子發票證明聯一維及二維條碼規格說明).
// It does no I/O; calendar rules are evaluated in Asia/Taipei whatever the
// server's zone.
package twrules
