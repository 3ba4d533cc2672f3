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
	Issued   []Invoice // issued by this close, supplementary ones included
	Existing int       // accounts already invoiced in full for the month
	Skipped  []Skip    // usage that makes no invoice (under NT$1 after rounding)
	NoUsage  int       // postpaid accounts without usage in the month
	PDFs     int       // PDFs written to PDFDir
}

// Close issues the monthly invoices of postpaid (Business, Enterprise)
// usage for a Taipei billing month that has ended: one per account with
// usage, one line per model. Usage that the month's invoices do not bill
// yet — recorded after an early issue or after an earlier close, or
// released by a void — goes on a supplementary invoice naming its month,
// for this month and every earlier one, so closing twice issues nothing
// new and late usage is billed by the next close.
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
	if err := s.Sync(ctx); err != nil {
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
