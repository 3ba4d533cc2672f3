package invoicing

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/projections"
)

// Config sets up a Service.
type Config struct {
	Seller SellerConfig
	// CacheDir, when set, keeps rendered PDFs as files (e.g. under the data
	// directory); they are always regenerable from the events.
	CacheDir string
	// Logger receives the warnings of a cache that cannot be written
	// (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CloseDelay is how long after a Taipei month ends Run closes it, so
	// requests still running at midnight are billed first (default 1h).
	CloseDelay time.Duration
	// FoldPause is a pause after each full batch that Sync folds (none when
	// zero). The first Sync of a process folds the whole history; beside a
	// running gateway, whose read models fill most of the memory budget,
	// an unpaced fold allocated faster than the collector reclaimed under
	// the soft memory limit, and the process's peak rose 10–30 MB over its
	// steady size. `serve` pauses 3 ms per 1,000 events.
	FoldPause time.Duration
	// Random is the source of each invoice's 隨機碼 (default crypto/rand).
	// It is read with the ledger locked. A property test passes a seeded
	// source, so that a failing history replays with the same codes and
	// so the same barcodes.
	Random io.Reader
}

// Service issues, lists and renders invoices, allowances, quotes and
// contracts. It is safe for concurrent use; several services (processes) may
// share one store.
type Service struct {
	store    eventstore.Store
	seller   SellerConfig
	renderer *pdf.Renderer
	cacheDir string
	log      *slog.Logger
	now      func() time.Time
	delay    time.Duration
	random   io.Reader
	pause    time.Duration
	sleep    func(time.Duration) // time.Sleep; a test counts the pauses

	syncMu sync.Mutex // one Sync at a time
	mu     sync.Mutex // guards l, foldErr, runErr and waiting
	l      *ledger
	// foldErr is the event the latest fold stopped at, or nil; runErr the
	// error the projector (Run) stopped on.
	foldErr, runErr error
	// waiting is set while top-up invoices wait for a number range.
	waiting rangeWait
}

// New checks the configuration and loads the PDF font.
func New(store eventstore.Store, cfg Config) (*Service, error) {
	if err := cfg.Seller.Validate(); err != nil {
		return nil, err
	}
	r, err := rendererFor(cfg.Seller)
	if err != nil {
		return nil, err
	}
	if err := cfg.Seller.checkTexts(r); err != nil {
		return nil, err
	}
	s := &Service{store: store, seller: cfg.Seller, renderer: r, cacheDir: cfg.CacheDir, log: cfg.Logger, now: cfg.Now,
		delay: cfg.CloseDelay, random: cfg.Random, pause: cfg.FoldPause, sleep: time.Sleep, l: newLedger()}
	if s.now == nil {
		s.now = time.Now
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.delay <= 0 {
		s.delay = time.Hour
	}
	return s, nil
}

// Seller is the configured seller.
func (s *Service) Seller() SellerConfig { return s.seller }

// syncBatch is how many events Sync reads at a time. Its first Sync reads
// the whole history beside the running projections; a batch held while it
// is folded (the stored rows and their decoded events) is memory the
// process needs on top of its read models.
const syncBatch = 1000

// Sync folds every event appended since the last Sync.
func (s *Service) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	for {
		s.mu.Lock()
		from := s.l.pos
		s.mu.Unlock()
		evs, err := s.store.ReadAll(ctx, from, syncBatch)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		if err := s.apply(evs); err != nil {
			return err
		}
		if len(evs) == syncBatch && s.pause > 0 {
			s.sleep(s.pause)
		}
	}
}

// SyncLatest is Sync after asking the store for its last position, so that
// a document another process (the CLI, a second gateway) issued a moment
// ago is found, rather than missing until the store next polls the file.
func (s *Service) SyncLatest(ctx context.Context) error {
	if h, ok := s.store.(eventstore.HeadReader); ok {
		if _, err := h.LastPosition(ctx); err != nil && !errors.Is(err, eventstore.ErrNoLastPosition) {
			return err
		}
	}
	return s.Sync(ctx)
}

// apply folds events read in global order.
func (s *Service) apply(evs []eventstore.RecordedEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range evs {
		if !s.l.pos.Less(evs[i].Position) {
			continue
		}
		if err := s.l.applyAll(&evs[i]); err != nil {
			s.foldErr = fmt.Errorf("invoicing: event %s at %v: %w", evs[i].Type, evs[i].Position, err)
			return s.foldErr
		}
		s.l.pos = evs[i].Position
	}
	s.foldErr = nil
	return nil
}

// Position is the last event invoicing has folded: what its lag in
// /metrics is counted from.
func (s *Service) Position() eventstore.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.l.pos
}

// Stalled says why invoicing cannot go on, or nil: an event it cannot fold
// (folding stops before it, so every Sync fails again on it), or the error
// the projector (Run) stopped on.
func (s *Service) Stalled() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.foldErr != nil {
		return s.foldErr
	}
	return s.runErr
}

// catchUpStream folds the events of a versioned stream past from (applied
// once per version, whoever reads them first).
func (s *Service) catchUpStream(ctx context.Context, stream string, from int64) error {
	for {
		evs, err := s.store.ReadStream(ctx, stream, uint64(from+1), 1000)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		s.mu.Lock()
		for i := range evs {
			if err := s.l.applyAll(&evs[i]); err != nil {
				s.mu.Unlock()
				return err
			}
		}
		s.mu.Unlock()
		if len(evs) < 1000 {
			return nil
		}
		from = int64(evs[len(evs)-1].Version)
	}
}

// encode builds the stored form of a domain event, stamped with the actor
// of ctx.
func encode(ctx context.Context, id [16]byte, at time.Time, e domain.Event) (eventstore.EventData, error) {
	domain.Stamp(ctx, e)
	b, err := domain.Encode(e)
	if err != nil {
		return eventstore.EventData{}, err
	}
	// The store keeps what is appended for good, and every reader folds it:
	// an event that would not decode again (a date past the year 9999, say)
	// would stop them all.
	if _, err := domain.Decode(e.EventType(), e.SchemaVersion(), b); err != nil {
		return eventstore.EventData{}, fmt.Errorf("%w: %s would not read back: %v", ErrInvalid, e.EventType(), err)
	}
	return eventstore.EventData{ID: id, Type: e.EventType(), SchemaVersion: e.SchemaVersion(), OccurredAt: at.UTC(), Data: b}, nil
}

// HasAccount reports whether the history opened acct: a filter naming an
// account it does not know was mistyped, and would match nothing.
func (s *Service) HasAccount(acct string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.l.accounts[acct] != nil
}

// Invoices lists invoices of a billing month and account ("" matches
// any), by period and number, without their documents (LoadDocuments reads
// them). Top-up invoices count in the month of the payment they bill
// (InvoiceMonth).
func (s *Service) Invoices(month, acct string) []Invoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Invoice
	for _, inv := range s.l.invoices {
		if (month == "" || s.countsIn(inv.AccountID, inv.Month, inv.TopUpRef, inv.IssuedAt) == month) && (acct == "" || inv.AccountID == acct) {
			out = append(out, inv.clone())
		}
	}
	sortByNumber(out)
	return out
}

// sortByNumber orders invoices by period, then number: the order they were
// numbered in, which pages read by offset rely on.
func sortByNumber(invs []Invoice) {
	sort.Slice(invs, func(i, j int) bool {
		if invs[i].Period != invs[j].Period {
			return invs[i].Period < invs[j].Period
		}
		return invs[i].Number < invs[j].Number
	})
}

// InvoiceMonth is the Taipei month an invoice counts in: a monthly
// invoice's billing month; a top-up invoice's, the month its top-up was
// paid in. Services are invoiced at payment (docs/invoicing-ledger.md), so
// a top-up paid at 23:59 on the last day of a month and invoiced after
// midnight belongs to the month it was paid in, wherever it is counted.
func (s *Service) InvoiceMonth(inv Invoice) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countsIn(inv.AccountID, inv.Month, inv.TopUpRef, inv.IssuedAt)
}

// RecordMonth is InvoiceMonth of a read model's invoice record, which the
// dashboard, the account pages, replay and the audit comparison sum by
// month. The read model lets a payment go once it has waited two months
// for its invoice and would count one issued later in its month of issue;
// the ledger keeps every payment. A record the ledger has not folded yet
// keeps the read model's month.
func (s *Service) RecordMonth(r projections.InvoiceRecord) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, err := s.l.find(InvoiceRef(r.Period, r.Number), nil)
	if err != nil {
		return r.Month
	}
	return s.countsIn(inv.AccountID, inv.Month, inv.TopUpRef, inv.IssuedAt)
}

// countsIn is InvoiceMonth of an invoice's account, billing month, top-up
// and issue time; s.mu is held. A top-up invoice whose top-up the ledger
// does not hold (a history that lost it) counts in its month of issue.
func (s *Service) countsIn(acct, month, topUpRef string, issued time.Time) string {
	if month != "" {
		return month
	}
	if topUpRef != "" {
		if t := s.l.findTopUp(acct, topUpRef); t != nil {
			return t.Month()
		}
	}
	return monthOf(issued)
}

// PeriodInvoices lists the invoices issued in a two-month period, by
// number, without their documents (LoadDocuments reads them).
func (s *Service) PeriodInvoices(period string) []Invoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Invoice
	for _, inv := range s.l.invoices {
		if inv.Period == period {
			out = append(out, inv.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// Invoice returns the invoice a reference names: its number (AB12345678
// or AB-12345678), or its period and number (2026-11-AB12345678) when the
// number was issued in more than one period (see InvoiceRef).
func (s *Service) Invoice(ref string) (Invoice, error) {
	s.mu.Lock()
	inv, err := s.l.find(ref, nil)
	var c Invoice
	if err == nil {
		c = inv.clone()
	}
	s.mu.Unlock()
	if err != nil {
		return Invoice{}, err
	}
	return s.document(context.Background(), c)
}

func normalizeNumber(n string) string {
	if len(n) == 11 && n[2] == '-' {
		return n[:2] + n[3:]
	}
	return n
}
