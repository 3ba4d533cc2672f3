package invoicing

import (
	"context"
	"log/slog"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Run is the invoicing projector: it follows the store and issues the
// invoice of every paid top-up of a prepaid account as it arrives, and
// closes each Taipei month CloseDelay after it ends. It returns when ctx
// ends. Failures (say, no range assigned yet) are logged and retried.
func (s *Service) Run(ctx context.Context, log *slog.Logger) error {
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
			log.Error("invoicing: top-up invoices", "err", err)
		}
		if m, due := s.dueClose(); due && m != closed {
			rep, err := s.Close(ctx, m, CloseOptions{})
			if err != nil {
				log.Error("invoicing: monthly close", "month", m, "err", err)
				return
			}
			closed = m
			log.Info("invoicing: month closed", "month", m, "issued", len(rep.Issued), "existing", rep.Existing, "skipped", len(rep.Skipped))
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
			if err := s.InvoiceTopUps(ctx); err != nil && ctx.Err() == nil {
				log.Error("invoicing: top-up invoices", "err", err)
			}
		case <-tick.C:
			work()
		}
	}
}

// dueClose is the last ended Taipei month once CloseDelay has passed.
func (s *Service) dueClose() (string, bool) {
	now := s.now().In(twrules.Taipei)
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, twrules.Taipei)
	return monthOf(start.AddDate(0, -1, 0)), now.Sub(start) >= s.delay
}

// InvoiceTopUps issues the invoices of paid top-ups (credit card, bank
// transfer; not adjustments) of prepaid accounts that have none yet.
func (s *Service) InvoiceTopUps(ctx context.Context) error {
	at := s.issueTime()
	if err := s.rangeFor(ctx, twrules.PeriodOf(at), s.pendingTopUps); err != nil {
		return err
	}
	s.mu.Lock()
	var drafts []draft
	for _, t := range s.l.topUps[s.l.topUpsDone:] {
		if s.toInvoice(t) {
			drafts = append(drafts, s.topUpDraft(t, at))
		}
	}
	seen := len(s.l.topUps)
	s.mu.Unlock()
	if len(drafts) > 0 {
		if _, _, err := s.allocate(ctx, twrules.PeriodOf(at), drafts); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.l.topUpsDone = max(s.l.topUpsDone, seen)
	s.mu.Unlock()
	return nil
}

// toInvoice reports whether a top-up still needs its invoice: a prepaid
// account's (postpaid usage is invoiced monthly), none issued yet, and a
// total of at least NT$1. s.mu is held.
func (s *Service) toInvoice(t topUp) bool {
	a := s.l.accounts[t.AccountID]
	if (a != nil && a.Plan.Postpaid()) || s.l.byKey[topUpKey(t.AccountID, t.Reference)] != nil {
		return false
	}
	return twrules.RoundNTD(t.Amount.Decimal()) > 0
}

// pendingTopUps reports whether a top-up awaits its invoice. s.mu is held.
func (s *Service) pendingTopUps() bool {
	for _, t := range s.l.topUps[s.l.topUpsDone:] {
		if s.toInvoice(t) {
			return true
		}
	}
	return false
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
