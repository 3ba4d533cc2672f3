package invoicing

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/routefree/routefree/invoicing/twrules"
)

// Turnkey's folders outlive the store: a store restored from a backup has
// lost the invoices issued after it, but their F0401 files are still in
// SRC, BAK or ERR. Their numbers were given to buyers (and perhaps
// uploaded), so the outbox looks for them before it records or writes
// anything: numbers this history has not used yet are named with the
// command that takes them out of use (SkipNumbers), and an invoice this
// store numbered again is held back rather than taken for the other's.

// foreignNumber is an F0401 in Turnkey's folders of a number the period
// has not used yet.
type foreignNumber struct {
	period, number, file string
	index                int64 // its place in the period's ranges
}

// clash is one of this history's invoices whose number Turnkey's folders
// hold for another invoice.
type clash struct {
	doc                *Document
	file               string
	theirs, ourSummary string // each invoice as its F0401 describes it
}

// scanTurnkey reads the F0401 files under root against this history's
// documents (by file name) and returns the files of numbers the history
// has not used and the documents whose numbers another invoice took.
func (s *Service) scanTurnkey(root string, byFile map[string]*Document) ([]foreignNumber, []clash, error) {
	var foreign []foreignNumber
	var clashes []clash
	for _, state := range []string{"SRC", "BAK", "ERR"} {
		dir := TurnkeyDir(root, MessageF0401, state)
		err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if de.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			d := byFile[de.Name()]
			if d == nil {
				if f, ok := s.unusedNumber(de.Name()); ok {
					f.file = filepath.ToSlash(rel)
					foreign = append(foreign, f)
				}
				return nil
			}
			if d.Status == FilingUploaded {
				return nil // recorded from this very file before
			}
			if c, ok, err := sameInvoice(path, d); err != nil {
				return err
			} else if !ok {
				c.file = filepath.ToSlash(rel)
				clashes = append(clashes, c)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("invoicing: reading Turnkey's %s/%s: %w", MessageF0401, state, err)
		}
	}
	return foreign, clashes, nil
}

// unusedNumber parses an F0401 file name (F0401_<period>_<number>.xml)
// and reports whether its number is one the period has not used yet.
func (s *Service) unusedNumber(name string) (foreignNumber, bool) {
	parts := strings.Split(strings.TrimSuffix(name, ".xml"), "_")
	if len(parts) != 3 || parts[0] != MessageF0401 || !strings.HasSuffix(name, ".xml") {
		return foreignNumber{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.l.ranges[parts[1]]
	if st == nil {
		return foreignNumber{}, false
	}
	k, ok := st.rngs.Index(parts[2])
	if !ok || k < st.count {
		return foreignNumber{}, false // not this store's to give, or used (skipped) already
	}
	return foreignNumber{period: parts[1], number: parts[2], index: k}, true
}

// f0401Facts is what tells two invoices of one number apart: elements of
// F0401 (mig.Invoice).
type f0401Facts struct {
	Main struct {
		InvoiceNumber string `xml:"InvoiceNumber"`
		InvoiceDate   string `xml:"InvoiceDate"`
		InvoiceTime   string `xml:"InvoiceTime"`
		Buyer         struct {
			Identifier string `xml:"Identifier"`
			Name       string `xml:"Name"`
		} `xml:"Buyer"`
		RandomNumber string `xml:"RandomNumber"`
	} `xml:"Main"`
	Amount struct {
		TotalAmount string `xml:"TotalAmount"`
	} `xml:"Amount"`
}

func (f f0401Facts) String() string {
	return fmt.Sprintf("buyer %s %s, NT$%s, issued %s %s", f.Main.Buyer.Identifier, f.Main.Buyer.Name, f.Amount.TotalAmount, f.Main.InvoiceDate, f.Main.InvoiceTime)
}

// sameInvoice compares the invoice of an F0401 file with the document of
// its number by what the invoice is (buyer, amount, date and time, 隨機碼),
// not by its bytes: a file an earlier release wrote may differ in form.
func sameInvoice(path string, d *Document) (clash, bool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return clash{}, false, err
	}
	var theirs, ours f0401Facts
	if err := xml.Unmarshal(raw, &theirs); err != nil {
		// Not an invoice this can read: Turnkey's own, say. Its name is
		// the document's; the outbox goes on as before.
		return clash{}, true, nil
	}
	var buf bytes.Buffer
	if err := d.write(&buf); err != nil {
		return clash{}, true, nil // reported as a failed document below
	}
	if err := xml.Unmarshal(buf.Bytes(), &ours); err != nil {
		return clash{}, false, err
	}
	if theirs == ours {
		return clash{}, true, nil
	}
	return clash{doc: d, theirs: theirs.String(), ourSummary: ours.String()}, false, nil
}

// turnkeyError names the numbers used outside the history, with the
// command that takes them out of use, and the invoices held back.
func turnkeyError(foreign []foreignNumber, clashes []clash) error {
	if len(foreign) == 0 && len(clashes) == 0 {
		return nil
	}
	var parts []string
	if len(foreign) > 0 {
		last := map[string]foreignNumber{}
		for _, f := range foreign {
			if l, ok := last[f.period]; !ok || f.index > l.index {
				last[f.period] = f
			}
		}
		periods := make([]string, 0, len(last))
		for p := range last {
			periods = append(periods, p)
		}
		slices.Sort(periods)
		var b strings.Builder
		fmt.Fprintf(&b, "Turnkey's folders hold invoices of numbers this history has not used (%d files: issued by a store since lost, restored from a backup?), and it would give those numbers to other buyers:", len(foreign))
		for i, p := range periods {
			l := last[p]
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " period %s up to %s (%s): routefree invoices skip --period %s --through %s --reason \"…\"",
				p, twrules.PrintedNumber(l.number), l.file, p, l.number)
		}
		parts = append(parts, b.String())
	}
	for _, c := range clashes {
		parts = append(parts, fmt.Sprintf("%s %s in Turnkey's %s is another invoice (%s) than this history's (%s): the number was issued twice, and this history's is neither written nor recorded as uploaded (docs/invoicing.md, \"Numbers used outside the history\")",
			c.doc.Message, twrules.PrintedNumber(c.doc.Number), c.file, c.theirs, c.ourSummary))
	}
	return fmt.Errorf("%w: %s", ErrConflict, strings.Join(parts, "; "))
}

// heldBack reports whether d is one of the clashes.
func heldBack(clashes []clash, d *Document) bool {
	return slices.ContainsFunc(clashes, func(c clash) bool { return c.doc.key() == d.key() })
}
