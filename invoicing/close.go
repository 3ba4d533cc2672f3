package invoicing

import (
	"context"
	"fmt"
	"sort"

	"github.com/routefree/routefree/invoicing/twrules"
)

// CloseOptions tune a monthly close.
type CloseOptions struct {
	// PDFDir, when set, receives the PDF of every invoice issued by the
	// close, rendered by Workers goroutines (default 2).
	PDFDir  string
	Workers int
}

// CloseReport says what a close did.
type CloseReport struct {
	Month    string
	Period   string    // period of issue
	Issued   []Invoice // issued by this close
	Existing int       // accounts already invoiced for the month
	Skipped  []Skip    // usage that makes no invoice (zero or negative)
	NoUsage  int       // postpaid accounts without usage in the month
	PDFs     int       // PDFs written to PDFDir
}

// Close issues the monthly invoices of every postpaid (Business,
// Enterprise) account for a Taipei billing month that has ended: one per
// account with usage, one line per model. Accounts already invoiced for the
// month are left alone, so closing twice issues nothing new.
func (s *Service) Close(ctx context.Context, month string, opts CloseOptions) (CloseReport, error) {
	start, err := ParseMonth(month)
	if err != nil {
		return CloseReport{}, err
	}
	at := s.issueTime()
	if at.Before(start.AddDate(0, 1, 0)) {
		return CloseReport{}, fmt.Errorf("%w: %s has not ended in Taipei; issue single invoices with IssueMonthly", ErrInvalid, month)
	}
	if err := s.Sync(ctx); err != nil {
		return CloseReport{}, err
	}
	period := twrules.PeriodOf(at)
	rep := CloseReport{Month: month, Period: period.String()}
	s.mu.Lock()
	ids := make([]string, 0, len(s.l.accounts))
	for id, a := range s.l.accounts {
		if a.Plan.Postpaid() {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var drafts []draft
	for _, id := range ids {
		switch {
		case s.l.byKey[monthlyKey(id, month)] != nil:
			rep.Existing++
		case len(s.l.usage[acctMonth{id, month}]) == 0:
			rep.NoUsage++
		default:
			d, skip := s.monthlyDraft(id, month, at)
			if skip != nil {
				rep.Skipped = append(rep.Skipped, *skip)
				continue
			}
			drafts = append(drafts, d)
		}
	}
	s.mu.Unlock()
	out, created, err := s.allocate(ctx, period, drafts)
	for i, inv := range out {
		if created[i] {
			rep.Issued = append(rep.Issued, inv)
		} else {
			rep.Existing++ // issued concurrently by another closer
		}
	}
	if err != nil {
		return rep, err
	}
	if opts.PDFDir != "" {
		if err := s.WritePDFs(ctx, opts.PDFDir, rep.Issued, opts.Workers); err != nil {
			return rep, err
		}
		rep.PDFs = len(rep.Issued)
	}
	return rep, nil
}
