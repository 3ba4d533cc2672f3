package mig

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"github.com/routefree/routefree/domain"
)

// write marshals one message as an indented UTF-8 XML document.
func write(w io.Writer, msg any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(msg); err != nil {
		return fmt.Errorf("mig: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteF0401 writes the F0401 document of one invoice.
func WriteF0401(w io.Writer, inv domain.InvoiceIssued, seller Seller) error {
	msg, err := BuildF0401(inv, seller)
	if err != nil {
		return err
	}
	return write(w, msg)
}

// WriteF0501 writes the F0501 document of one void.
func WriteF0501(w io.Writer, v Void, seller Seller) error {
	msg, err := BuildF0501(v, seller)
	if err != nil {
		return err
	}
	return write(w, msg)
}

// WriteG0401 writes the G0401 document of one allowance.
func WriteG0401(w io.Writer, a AllowanceDoc, seller Seller) error {
	msg, err := BuildG0401(a, seller)
	if err != nil {
		return err
	}
	return write(w, msg)
}

// addFile adds one XML file to an export zip (Turnkey uploads one message
// per file), stamped with its document's time so that the archive is
// byte-identical for the same events.
func addFile(zw *zip.Writer, name string, at time.Time, fn func(io.Writer) error) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: at.UTC()})
	if err != nil {
		return err
	}
	return fn(f)
}

// ExportF0401 writes a zip with F0401_<number>.xml per invoice; nothing is
// written to w unless every invoice is valid.
func ExportF0401(w io.Writer, invs []domain.InvoiceIssued, seller Seller) error {
	for _, inv := range invs {
		if _, err := BuildF0401(inv, seller); err != nil {
			return err
		}
	}
	zw := zip.NewWriter(w)
	for _, inv := range invs {
		if err := addFile(zw, "F0401_"+inv.Number+".xml", inv.IssuedAt, func(f io.Writer) error {
			return WriteF0401(f, inv, seller)
		}); err != nil {
			return err
		}
	}
	return zw.Close()
}

// ExportF0501 writes a zip with F0501_<number>.xml per void.
func ExportF0501(w io.Writer, voids []Void, seller Seller) error {
	for _, v := range voids {
		if _, err := BuildF0501(v, seller); err != nil {
			return err
		}
	}
	zw := zip.NewWriter(w)
	for _, v := range voids {
		if err := addFile(zw, "F0501_"+v.Invoice.Number+".xml", v.At, func(f io.Writer) error {
			return WriteF0501(f, v, seller)
		}); err != nil {
			return err
		}
	}
	return zw.Close()
}

// ExportG0401 writes a zip with G0401_<allowance number>.xml per allowance.
func ExportG0401(w io.Writer, allowances []AllowanceDoc, seller Seller) error {
	for _, a := range allowances {
		if _, err := BuildG0401(a, seller); err != nil {
			return err
		}
	}
	zw := zip.NewWriter(w)
	for _, a := range allowances {
		if err := addFile(zw, "G0401_"+a.Event.Number+".xml", a.At, func(f io.Writer) error {
			return WriteG0401(f, a, seller)
		}); err != nil {
			return err
		}
	}
	return zw.Close()
}

// WriteG0501 writes the G0501 document of one allowance void.
func WriteG0501(w io.Writer, v AllowanceVoid, seller Seller) error {
	msg, err := BuildG0501(v, seller)
	if err != nil {
		return err
	}
	return write(w, msg)
}

// ExportG0501 writes a zip with G0501_<allowance number>.xml per void.
func ExportG0501(w io.Writer, voids []AllowanceVoid, seller Seller) error {
	for _, v := range voids {
		if _, err := BuildG0501(v, seller); err != nil {
			return err
		}
	}
	zw := zip.NewWriter(w)
	for _, v := range voids {
		if err := addFile(zw, "G0501_"+v.Allowance.Number+".xml", v.At, func(f io.Writer) error {
			return WriteG0501(f, v, seller)
		}); err != nil {
			return err
		}
	}
	return zw.Close()
}
