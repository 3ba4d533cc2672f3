// Package mig writes the MOF e-invoice storage messages (平台存證) of MIG 4.1:
// F0401 (issue invoice), F0501 (void invoice), G0401 (allowance) and G0501
// (void allowance), one
// XML document per message as Turnkey uploads them.
//
// Element names and order follow public implementations of MIG 4.0
// (tihtw/taiwan-invoice; A0201/B0401 field sets kept in 4.x) with the 4.1
// namespace; the MIG 4.1 PDF itself was not available to check them, nor
// the B2C amount convention (see F0401).
package mig

// Version is the MIG version written in every namespace.
const Version = "4.1"

// Namespaces of the messages.
const (
	NamespaceF0401 = "urn:GEINV:eInvoiceMessage:F0401:" + Version
	NamespaceF0501 = "urn:GEINV:eInvoiceMessage:F0501:" + Version
	NamespaceG0401 = "urn:GEINV:eInvoiceMessage:G0401:" + Version
	NamespaceG0501 = "urn:GEINV:eInvoiceMessage:G0501:" + Version
)
