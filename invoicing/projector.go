package invoicing

import (
	"context"
	"log/slog"
	"time"

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
	s.mu.Lock()
	var drafts []draft
	for _, t := range s.l.topUps[s.l.topUpsDone:] {
		a := s.l.accounts[t.AccountID]
		if (a != nil && a.Plan.Postpaid()) || s.l.byKey[topUpKey(t.AccountID, t.Reference)] != nil {
			continue // postpaid usage is invoiced monthly
		}
		if d := s.topUpDraft(t, at); d.inv.Total > 0 {
			drafts = append(drafts, d)
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
