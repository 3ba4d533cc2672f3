package invoicing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Run is the invoicing projector: it follows the store and issues the
// invoice of every paid top-up of a prepaid account as it arrives, and
// closes each Taipei month CloseDelay after it ends. It returns when ctx
// ends. Failures (say, no range assigned yet) are logged and retried; an
// account the close cannot invoice is logged, and left to the next close;
// an event it cannot fold or a broken subscription stops it, and Stalled
// reports why.
func (s *Service) Run(ctx context.Context, log *slog.Logger) error {
	err := s.run(ctx, log)
	if err != nil && ctx.Err() == nil {
		s.mu.Lock()
		s.runErr = fmt.Errorf("invoicing projector stopped: %w", err)
		s.mu.Unlock()
	}
	return err
}

func (s *Service) run(ctx context.Context, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if err := s.Sync(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	pos := s.l.pos
	s.mu.Unlock()
	sub, err := s.store.SubscribeAll(ctx, pos)
	if err != nil {
		return err
	}
	defer sub.Close()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	var closed string
	work := func() {
		if err := s.InvoiceTopUps(ctx); err != nil && ctx.Err() == nil {
			s.logFailure(log, "top-up invoices", err)
		}
		if m, due := s.dueClose(); due && m != closed {
			rep, err := s.Close(ctx, m, CloseOptions{})
			for _, f := range rep.Failed {
				log.Error("invoicing: monthly close: account not invoiced", "month", f.Month, "account", f.AccountID, "reason", f.Reason)
			}
			// An account that cannot be invoiced waits for a fix, not for a
			// retry: the next close (next month's, or one run by hand)
			// issues its invoice.
			var partly *NotInvoicedError
			if err != nil && !errors.As(err, &partly) {
				if ctx.Err() != nil {
					// Stopped with serve, as asked: no failure to alert on.
					// The next start closes the month again and issues the rest.
					log.Info("invoicing: monthly close stopped with serve; the next start issues the rest", "month", m, "issued", len(rep.Issued))
					return
				}
				s.logFailure(log, "monthly close", err, "month", m)
				return
			}
			closed = m
			log.Info("invoicing: month closed", "month", m, "issued", len(rep.Issued), "existing", rep.Existing, "skipped", len(rep.Skipped),
				"not_invoiced", len(rep.Failed))
		}
	}
	work()
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch, ok := <-sub.C:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return sub.Err()
			}
			if err := s.apply(batch); err != nil {
				return err
			}
			if s.awaitingRange() {
				// Nothing can be numbered until a range comes: the minute's
				// tick says so, rather than every batch of events.
				continue
			}
			if err := s.InvoiceTopUps(ctx); err != nil && ctx.Err() == nil {
				s.logFailure(log, "top-up invoices", err)
			}
		case <-tick.C:
			work()
		}
	}
}

// logFailure reports what stopped a piece of the projector's work, which
// it retries each minute. A period without a number range, or with its
// numbers used up, is an expected state that the operator ends: a warning
// saying what to run. Anything else is an error.
func (s *Service) logFailure(log *slog.Logger, what string, err error, attrs ...any) {
	if !errors.Is(err, ErrNoRange) && !errors.Is(err, ErrRangeExhausted) {
		log.Error("invoicing: "+what, append(attrs, "err", err)...)
		return
	}
	p := twrules.PeriodOf(s.issueTime()).String()
	log.Warn(fmt.Sprintf("invoicing: %s: no invoice number free in period %s; add the range the tax office assigned with "+
		"`routefree invoices range --period %s --prefix <字軌> --from <first number> --to <last number>`", what, p, p),
		append(attrs, "period", p, "err", err)...)
}

// dueClose is the last ended Taipei month once CloseDelay has passed.
func (s *Service) dueClose() (string, bool) {
	now := s.now().In(twrules.Taipei)
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, twrules.Taipei)
	return monthOf(start.AddDate(0, -1, 0)), now.Sub(start) >= s.delay
}

// InvoiceTopUps issues the invoices of paid top-ups (credit card, bank
// transfer; not adjustments) of prepaid accounts that no live invoice bills
// yet: one per account, carrying fractions of NT$1 until they add up.
func (s *Service) InvoiceTopUps(ctx context.Context) error {
	_, err := s.IssueTopUps(ctx)
	return err
}

// IssueTopUps is InvoiceTopUps, also saying how many invoices it issued:
// not those another issuer (another process) issued meanwhile, which this
// service reads as it allocates numbers.
func (s *Service) IssueTopUps(ctx context.Context) (issued int, err error) {
	at := s.issueTime()
	defer func() { s.noteRange(twrules.PeriodOf(at), err) }()
	if err := s.rangeFor(ctx, twrules.PeriodOf(at), s.pendingTopUps); err != nil {
		return 0, err
	}
	s.mu.Lock()
	type mark struct {
		a   *account
		gen uint64
	}
	marked := make([]mark, 0, len(s.l.dirty))
	for _, a := range s.l.dirty {
		if a.dirty != 0 {
			marked = append(marked, mark{a, a.dirty})
		}
	}
	// In order of payment: the account whose oldest top-up to invoice came first.
	first := func(a *account) uint32 {
		for t := range a.topUps.all() {
			if t.cover == nil {
				return t.order
			}
		}
		return 0
	}
	sort.Slice(marked, func(i, j int) bool { return first(marked[i].a) < first(marked[j].a) })
	todo := make([]*account, len(marked))
	for i, m := range marked {
		todo[i] = m.a
	}
	s.mu.Unlock()
	// An invoice bills one payment, or one void's (topUpsDue): an
	// account's other top-ups get theirs in the next passes.
	var errs []error
	for len(todo) > 0 {
		var n int
		var err error
		todo, errs, n, err = s.issueTopUpPass(ctx, todo, at, errs)
		issued += n
		if err != nil {
			return issued, err
		}
	}
	// The others are issued; the refused stay marked, and are tried again.
	if len(errs) > 0 {
		return issued, errors.Join(errs...)
	}
	s.mu.Lock()
	for _, m := range marked {
		if m.a.dirty == m.gen { // not marked again meanwhile
			m.a.dirty = 0
		}
	}
	s.l.clearDirty()
	s.mu.Unlock()
	return issued, nil
}

// issueTopUpPass issues the next top-up invoice of each account of todo,
// adding the refusals to errs. again are the accounts with top-ups left
// for another invoice.
func (s *Service) issueTopUpPass(ctx context.Context, todo []*account, at time.Time, errs []error) (again []*account, _ []error, issued int, err error) {
	type left struct {
		a   *account
		seq int // of the invoice drafted now
	}
	var drafts []draft
	var more []left
	s.mu.Lock()
	for _, a := range todo {
		if d, rest, ok := s.topUpDraft(a.ID, at); ok {
			drafts = append(drafts, d)
			if rest {
				more = append(more, left{a, d.inv.Seq})
			}
		}
	}
	s.mu.Unlock()
	if len(drafts) == 0 {
		return nil, errs, 0, nil
	}
	_, created, refused, err := s.allocate(ctx, drafts)
	for _, c := range created {
		if c {
			issued++
		}
	}
	if err != nil {
		return nil, errs, issued, err
	}
	for _, r := range refused {
		errs = append(errs, r.err())
	}
	// Only an account whose invoice was issued goes again, so that every
	// pass brings each account's invoices further.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range more {
		if b := s.l.topUpBills[m.a.ID]; b != nil && b.next > m.seq {
			again = append(again, m.a)
		}
	}
	return again, errs, issued, nil
}

// rangeWait is the period whose top-up invoices wait for a number range
// (none assigned, or all used), with how many ranges it had then.
type rangeWait struct {
	period string
	ranges int
}

// noteRange records whether top-up invoicing of period stopped for want of
// numbers.
func (s *Service) noteRange(period twrules.Period, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting = rangeWait{}
	if errors.Is(err, ErrNoRange) || errors.Is(err, ErrRangeExhausted) {
		s.waiting = rangeWait{period.String(), s.rangesOf(period.String())}
	}
}

// awaitingRange reports whether top-up invoicing still waits for a range:
// the period it stopped in is the current one and has no new range since.
// Walking every account with a top-up to invoice after each batch of
// events, only to find again that no number is free, cost a core's worth
// of CPU with 100,000 such accounts.
func (s *Service) awaitingRange() bool {
	p := twrules.PeriodOf(s.issueTime()).String()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting.period == p && s.rangesOf(p) == s.waiting.ranges
}

func (s *Service) rangesOf(period string) int {
	if st := s.l.ranges[period]; st != nil {
		return st.changes
	}
	return 0
}

// pendingTopUps reports whether an account has top-ups to invoice (NT$1 or
// more not billed yet), and forgets the marked accounts that have none, so
// that a missing range is reported only when it stops an invoice. s.mu is
// held.
func (s *Service) pendingTopUps() bool {
	found := false
	for _, a := range s.l.dirty {
		if a.dirty == 0 {
			continue
		}
		if s.topUpsDue(a.ID).total > 0 {
			found = true
		} else {
			a.dirty = 0
		}
	}
	s.l.clearDirty()
	return found
}

// rangeFor fails as issuing would when needed() holds and the period has
// no number range, before drafts are built: without a range, every batch
// of events would otherwise draft every pending top-up only to drop them.
func (s *Service) rangeFor(ctx context.Context, period twrules.Period, needed func() bool) error {
	s.mu.Lock()
	st := s.l.ranges[period.String()]
	ready, last := st != nil && st.assigned, int64(-1)
	if st != nil {
		last = st.last
	}
	need := !ready && needed()
	s.mu.Unlock()
	if !need {
		return nil
	}
	if err := s.catchUpStream(ctx, domain.InvoiceRangeStream(period.String()), last); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.l.ranges[period.String()]; st == nil || !st.assigned {
		return noRange(period)
	}
	return nil
}
