package invoicing

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// CloseOptions tune a monthly close.
type CloseOptions struct {
	// PDFDir, when set, receives the PDF of every invoice of the close
	// that it does not hold whole yet, rendered by Workers goroutines
	// (default 2): those the close issues, and those an earlier close of
	// the month issued (one killed before it wrote them, say). A PDF of a
	// layout revised since is written again (pdfsToWrite).
	PDFDir  string
	Workers int
}

// CloseReport says what a close did.
type CloseReport struct {
	Month    string
	Period   string    // period of issue
	Issued   []Invoice // issued by this close, supplementary ones included
	Existing int       // accounts already invoiced in full for the month
	Skipped  []Skip    // usage that makes no invoice (under NT$1 after rounding)
	NoUsage  int       // postpaid accounts without usage in the month
	PDFs     int       // PDFs written to PDFDir (by this close)
	// Failed are the invoices the close could not issue (a name that
	// cannot be printed or filed): nothing of them is recorded, and the
	// next close issues them once the cause is fixed.
	Failed []Failure
}

// Failure is an account's invoice that the close could not issue, and why.
type Failure struct {
	AccountID string
	Month     string // the usage month it bills
	Name      string // the account's organisation
	Reason    string
}

// NotInvoicedError is a close that issued every invoice but Failures'.
// It is ErrInvalid, as the refusal of each one alone is.
type NotInvoicedError struct {
	Month    string
	Failures []Failure
}

func (e *NotInvoicedError) Error() string {
	reasons := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		reasons[i] = f.Reason
	}
	accounts := "accounts"
	if len(e.Failures) == 1 {
		accounts = "account"
	}
	return fmt.Sprintf("%v: the close of %s did not invoice %d %s (every other one is invoiced; close again once they are fixed): %s",
		ErrInvalid, e.Month, len(e.Failures), accounts, strings.Join(reasons, "; "))
}

func (e *NotInvoicedError) Unwrap() error { return ErrInvalid }

// Close issues the monthly invoices of postpaid (Business, Enterprise)
// usage for a Taipei billing month that has ended: one per account with
// usage, one line per model. Usage that the month's invoices do not bill
// yet — recorded after an early issue or after an earlier close, or
// released by a void — goes on a supplementary invoice naming its month,
// for this month and every earlier one, so closing twice issues nothing
// new and late usage is billed by the next close. An invoice that cannot
// be printed or filed does not stop the others: it is reported in Failed,
// with a *NotInvoicedError, and the next close issues it once fixed.
func (s *Service) Close(ctx context.Context, month string, opts CloseOptions) (CloseReport, error) {
	start, err := ParseMonth(month)
	if err != nil {
		return CloseReport{}, err
	}
	at := s.issueTime()
	if at.Before(start.AddDate(0, 1, 0)) {
		return CloseReport{}, fmt.Errorf("%w: %s has not ended in Taipei: it can be closed from %s 00:00 Taipei time; one account's invoice can be issued before then with `routefree invoices issue`",
			ErrInvalid, month, start.AddDate(0, 1, 0).In(twrules.Taipei).Format("2006-01-02"))
	}
	// From the store's head: the usage another process (a second gateway)
	// billed a moment ago is drafted with the rest.
	if err := s.SyncLatest(ctx); err != nil {
		return CloseReport{}, err
	}
	period := twrules.PeriodOf(at)
	rep := CloseReport{Month: month, Period: period.String()}
	s.mu.Lock()
	keys := make([]acctMonth, 0, len(s.l.usage))
	for k := range s.l.usage {
		if k.month <= month {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].month != keys[j].month {
			return keys[i].month < keys[j].month
		}
		return keys[i].acct < keys[j].acct
	})
	used := map[string]bool{}
	var drafts []draft
	for _, k := range keys {
		if k.month == month {
			used[k.acct] = true
		}
		d, skip, ok := s.monthlyDraft(k.acct, k.month, at)
		invoiced := len(s.l.months[k].live()) > 0
		switch {
		case !ok || (skip != nil && invoiced):
			if k.month == month && invoiced {
				rep.Existing++
			}
		case skip != nil:
			if k.month == month {
				rep.Skipped = append(rep.Skipped, *skip)
			}
		default:
			drafts = append(drafts, d)
		}
	}
	for id, a := range s.l.accounts {
		if a.Plan.Postpaid() && !used[id] {
			rep.NoUsage++
		}
	}
	s.mu.Unlock()
	out, created, refused, err := s.allocate(ctx, drafts)
	for i, inv := range out {
		switch {
		case created[i]:
			rep.Issued = append(rep.Issued, inv)
			rep.Period = inv.Period // a close that ran past its period's end numbers in the next
		case inv.Month == month:
			// The month's invoice, issued concurrently by another closer.
			// One of an earlier month is not: Existing counts accounts
			// of this month, each once.
			rep.Existing++
		}
	}
	rep.Failed = s.failures(refused)
	if err != nil {
		return rep, err
	}
	if opts.PDFDir != "" {
		// The invoices are events and their PDFs files written after
		// them: a close stopped between the two is made whole here.
		missing, err := s.pdfsToWrite(ctx, opts.PDFDir, append(rep.Issued, s.closedBefore(month, rep.Issued)...))
		if err != nil {
			return rep, err
		}
		voided, err := s.voidedSinceWritten(ctx, opts.PDFDir, month)
		if err != nil {
			return rep, err
		}
		missing = append(missing, voided...)
		if err := s.WritePDFs(ctx, opts.PDFDir, missing, opts.Workers); err != nil {
			return rep, err
		}
		rep.PDFs = len(missing)
	}
	if len(rep.Failed) > 0 {
		return rep, &NotInvoicedError{Month: month, Failures: rep.Failed}
	}
	return rep, nil
}

// failures names the accounts of refused drafts.
func (s *Service) failures(refused []refusal) []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Failure
	for _, r := range refused {
		f := Failure{AccountID: r.d.inv.AccountID, Month: r.d.inv.Month, Reason: r.why}
		if a := s.l.accounts[f.AccountID]; a != nil {
			f.Name = a.Organisation
		}
		out = append(out, f)
	}
	return out
}

// closedBefore returns the live monthly invoices that a close of month
// issues, other than those of issued: the month's and the supplementary
// ones of earlier months, issued once month had ended.
func (s *Service) closedBefore(month string, issued []Invoice) []Invoice {
	start, err := ParseMonth(month)
	if err != nil {
		return nil
	}
	end := start.AddDate(0, 1, 0)
	seen := make(map[string]bool, len(issued))
	for _, inv := range issued {
		seen[inv.Period+"-"+inv.Number] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Invoice
	for _, inv := range s.l.invoices {
		if inv.Month == "" || inv.TopUpRef != "" || inv.Voided || inv.Month > month ||
			inv.IssuedAt.Before(end) || seen[inv.Period+"-"+inv.Number] {
			continue
		}
		out = append(out, inv.clone())
	}
	sortByNumber(out)
	return out
}

// voidedSinceWritten returns the voided monthly invoices of month and
// earlier whose PDF dir holds whole but not marked 作廢: written by a close
// before their void. Left so, the folder would hold their proofs as live
// beside their re-issues' and bill their months twice. A voided invoice
// whose PDF dir does not hold gets none.
func (s *Service) voidedSinceWritten(ctx context.Context, dir, month string) ([]Invoice, error) {
	s.mu.Lock()
	var voided []Invoice
	for _, inv := range s.l.invoices {
		if inv.Voided && inv.Month != "" && inv.TopUpRef == "" && inv.Month <= month {
			voided = append(voided, inv.clone())
		}
	}
	s.mu.Unlock()
	sortByNumber(voided)
	var out []Invoice
	for _, inv := range voided {
		if !wholePDF(filepath.Join(dir, pdfName(inv))) {
			continue
		}
		stale, err := s.otherThanRendered(ctx, filepath.Join(dir, pdfName(inv)), inv)
		if err != nil {
			return nil, err
		}
		if stale {
			out = append(out, inv)
		}
	}
	return out, nil
}

// pdfsToWrite returns the invoices whose PDF dir does not hold whole (no
// file, or one cut off before its end-of-file marker) or holds in a layout
// revised since (pdf.InvoiceLayout: a re-issue's proof from before it
// printed the amount its void took off), as the document cache renders
// those again (documentName) and keeps every other proof it holds.
func (s *Service) pdfsToWrite(ctx context.Context, dir string, invs []Invoice) ([]Invoice, error) {
	var out []Invoice
	for _, inv := range invs {
		path := filepath.Join(dir, pdfName(inv))
		if !wholePDF(path) {
			out = append(out, inv)
			continue
		}
		if pdf.InvoiceLayout(inv.InvoiceIssued) == "" {
			continue
		}
		stale, err := s.otherThanRendered(ctx, path, inv)
		if err != nil {
			return nil, err
		}
		if stale {
			out = append(out, inv)
		}
	}
	return out, nil
}

// otherThanRendered reports whether the file at path differs from the
// invoice's PDF rendered now. Rendering is deterministic (ContentHash), so
// a file that differs was rendered otherwise: by a release whose layout
// was older.
func (s *Service) otherThanRendered(ctx context.Context, path string, inv Invoice) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var buf bytes.Buffer
	if err := s.RenderInvoice(&buf, inv); err != nil {
		return false, fmt.Errorf("invoicing: PDF of %s: %w", inv.Number, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	return !bytes.Equal(b, buf.Bytes()), nil
}

// wholePDF reports whether path is a file ending with a PDF's %%EOF
// marker (followed at most by a line break).
func wholePDF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() < 8 {
		return false
	}
	tail := make([]byte, min(st.Size(), 64))
	if _, err := f.ReadAt(tail, st.Size()-int64(len(tail))); err != nil {
		return false
	}
	return bytes.HasSuffix(bytes.TrimRight(tail, "\r\n"), []byte("%%EOF"))
}
