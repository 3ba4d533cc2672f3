package invoicing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// AssignRange adds a 字軌 and number range as AddRange does, for callers
// that need not know whether it was there already.
func (s *Service) AssignRange(ctx context.Context, period, prefix string, from, to int64, opts ...RangeOption) error {
	_, err := s.AddRange(ctx, period, prefix, from, to, opts...)
	return err
}

// RangeOption qualifies the assignment of a range.
type RangeOption int

// FarPeriodMeant says that a range is meant for a period more than one
// away from the current one (a restore of old history, say): without it
// such a range is refused as the likely typo of a year or month.
const FarPeriodMeant RangeOption = 1

// AddRange adds a 字軌 and number range that the tax authority assigned
// for a two-month period (period: its first month, e.g. 2026-11). A period
// may have several ranges; numbers are taken from them in the order they
// were assigned. The same range again changes nothing and reports added
// false, so that no one is told it was added; one that overlaps another of
// the period is refused. So is one for a period before the previous or
// after the next, unless opts hold FarPeriodMeant. A range withdrawn
// before may be added again.
func (s *Service) AddRange(ctx context.Context, period, prefix string, from, to int64, opts ...RangeOption) (added bool, err error) {
	p, r, err := parseRange(period, prefix, from, to)
	if err != nil {
		return false, err
	}
	if cur := twrules.PeriodOf(s.now()); p.Start().Before(cur.Prev().Start()) || p.Start().After(cur.Next().Start()) {
		if !slices.Contains(opts, FarPeriodMeant) {
			return false, fmt.Errorf("%w: period %s is more than one period from the current one, %s: a range is assigned for the current or the next period (or the previous, to report its blanks); if %s is meant, say so (routefree invoices range --far-period)",
				ErrInvalid, p, cur, p)
		}
	}
	err = s.decideOnRange(ctx, p, func(st rangeState) (*eventstore.EventData, error) {
		added = false
		for _, h := range st.rngs {
			if h == r {
				return nil, nil
			}
			if h.Overlaps(r) {
				return nil, fmt.Errorf("%w: range %s overlaps %s, already assigned to period %s", ErrConflict, r, h, p)
			}
		}
		ev := &domain.InvoiceRangeAssigned{Period: p.String(), Prefix: prefix, From: from, To: to}
		// The first assignment keeps the ID it always had; one after a
		// withdrawal is another fact.
		key := []string{domain.TypeInvoiceRangeSet, p.String(), r.String()}
		if n := st.withdrawals(r); n > 0 {
			key = append(key, "#"+strconv.Itoa(n))
		}
		d, err := encode(ctx, domain.EventID(key...), s.now(), ev)
		if err != nil {
			return nil, err
		}
		added = true
		return &d, nil
	})
	return added && err == nil, err
}

// WithdrawnRange is a range taken back from its period, when, by whom and
// why.
type WithdrawnRange struct {
	twrules.Range
	At     time.Time
	Actor  domain.Actor
	Reason string
}

// WithdrawRange takes back a range of a period that no number was used
// from: one typed for the wrong period, or with the wrong 字軌 or numbers.
// From then on it numbers nothing and no E0402 reports it blank; it is
// listed as withdrawn. The withdrawal is appended to the period's range
// stream expecting the version it was decided on, as issuers append their
// invoices: an invoice numbered from the range meanwhile, by this process
// or another, makes it decide again, and refuse. A range with a number
// used (or skipped as used outside this history) is refused: its invoices
// are voided if they were issued in error, and its numbers left unused are
// reported blank (E0402) once the period has ended. The range withdrawn
// already reports withdrawn false. reason is kept for the auditors.
func (s *Service) WithdrawRange(ctx context.Context, period, prefix string, from, to int64, reason string) (withdrawn bool, err error) {
	p, r, err := parseRange(period, prefix, from, to)
	if err != nil {
		return false, err
	}
	if reason = strings.TrimSpace(reason); reason == "" {
		return false, fmt.Errorf("%w: a reason is required: say why the range is withdrawn (the auditors read it)", ErrInvalid)
	}
	err = s.decideOnRange(ctx, p, func(st rangeState) (*eventstore.EventData, error) {
		withdrawn = false
		i := slices.Index(st.rngs, r)
		if i < 0 {
			if st.withdrawals(r) > 0 {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: %s is not a range of period %s (its ranges: %s)", ErrNotFound, r, p, orNone(rangeList(st.rngs)))
		}
		if used := st.rngs.Used(st.count)[i]; used > 0 {
			// Numbers are taken in order: the used ones open the range.
			return nil, fmt.Errorf("%w: range %s of period %s cannot be withdrawn: %d of its numbers %s used (%s through %s: invoices, or numbers skipped as used elsewhere). Void the invoices issued in error (routefree invoices void); the range stays, and its numbers left unused are reported blank (E0402) once the period has ended, within ten days of the next",
				ErrConflict, r, p, used, plural(used, "is", "are"), twrules.PrintedNumber(fmt.Sprintf("%s%08d", r.Prefix, r.From)), twrules.PrintedNumber(fmt.Sprintf("%s%08d", r.Prefix, r.From+used-1)))
		}
		ev := &domain.InvoiceRangeWithdrawn{Period: p.String(), Prefix: prefix, From: from, To: to, Reason: reason}
		d, err := encode(ctx, domain.EventID(domain.TypeInvoiceRangeWithdrawn, p.String(), r.String(), "#"+strconv.Itoa(st.withdrawals(r))), s.now(), ev)
		if err != nil {
			return nil, err
		}
		withdrawn = true
		return &d, nil
	})
	return withdrawn && err == nil, err
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// PeriodEnded reports whether period has ended (false for one that is not
// a period). Invoices are numbered from the period they are issued in, so
// a range added to an ended one numbers none issued now: it holds numbers
// used outside this history (invoices skip) or unused ones to report
// (E0402). The previous period's range is taken with a warning, not
// refused; one further back only when meant (AddRange).
func (s *Service) PeriodEnded(period string) bool {
	p, err := twrules.ParsePeriod(period)
	return err == nil && !s.now().Before(p.End())
}

// decideOnRange appends what decide makes of a period's range stream as
// this service has folded it (nil: nothing), expecting the stream as it
// was read: a range, an invoice or a skip appended meanwhile, by this
// process or another, makes it read again and decide again.
func (s *Service) decideOnRange(ctx context.Context, p twrules.Period, decide func(st rangeState) (*eventstore.EventData, error)) error {
	stream := domain.InvoiceRangeStream(p.String())
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.catchUpStream(ctx, stream, s.rangeVersion(p.String())); err != nil {
			return err
		}
		st := rangeState{last: -1}
		s.mu.Lock()
		if cur := s.l.ranges[p.String()]; cur != nil {
			st = *cur
		}
		s.mu.Unlock()
		d, err := decide(st)
		if err != nil || d == nil {
			return err
		}
		_, err = s.store.Append(ctx, stream, expectVersion(st.last), *d)
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			time.Sleep(time.Duration(rand.IntN(1+min(attempt, 20))) * time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
		return s.catchUpStream(ctx, stream, st.last)
	}
}

// Skipped is what SkipNumbers did: Count numbers, First through Through,
// taken out of use (none when Through was used already), and the number
// the period gives next.
type Skipped struct {
	Period, First, Through, Next string
	Count                        int64
}

// SkipNumbers takes out of use the numbers of a period after the last one
// it used, through through: numbers issued outside this history (by a
// store lost and restored from a backup, say) that must never be given to
// another buyer. They count as used, not blank. A number already used or
// skipped is left as it is (Count 0); one the period's ranges do not hold
// is refused. reason is kept for the auditors.
func (s *Service) SkipNumbers(ctx context.Context, period, through, reason string) (Skipped, error) {
	p, err := twrules.ParsePeriod(period)
	if err != nil {
		return Skipped{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	n, err := twrules.ParseInvoiceNumber(through)
	if err != nil {
		return Skipped{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if reason = strings.TrimSpace(reason); reason == "" {
		return Skipped{}, fmt.Errorf("%w: a reason is required: say where the numbers were used (the auditors read it)", ErrInvalid)
	}
	var out Skipped
	err = s.decideOnRange(ctx, p, func(st rangeState) (*eventstore.EventData, error) {
		if !st.assigned {
			return nil, noRange(p)
		}
		k, ok := st.rngs.Index(n.String())
		if !ok {
			return nil, fmt.Errorf("%w: %s is not a number of period %s's ranges (%s)", ErrInvalid, n, p, rangeList(st.rngs))
		}
		out = Skipped{Period: p.String(), Through: n.String()}
		out.Next, _ = st.rngs.Next(max(st.count, k+1))
		if k < st.count {
			return nil, nil // used already
		}
		out.First, _ = st.rngs.Next(st.count)
		out.Count = k + 1 - st.count
		ev := &domain.InvoiceNumbersSkipped{Period: p.String(), Through: n.String(), Count: out.Count, Reason: reason}
		d, err := encode(ctx, domain.EventID(domain.TypeInvoiceNumbersSkipped, p.String(), n.String()), s.now(), ev)
		return &d, err
	})
	if err != nil {
		return Skipped{}, err
	}
	return out, nil
}

// rangeList names ranges for a message.
func rangeList(rs twrules.Ranges) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.String()
	}
	return strings.Join(names, ", ")
}

// expectVersion is the expected version of a stream whose last version is
// last (-1: no stream yet).
func expectVersion(last int64) eventstore.ExpectedVersion {
	if last < 0 {
		return eventstore.NoStream()
	}
	return eventstore.Exact(uint64(last))
}

func (s *Service) rangeVersion(period string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.l.ranges[period]; st != nil {
		return st.last
	}
	return -1
}

// overlapsAny reports whether r overlaps one of rs.
func overlapsAny(rs twrules.Ranges, r twrules.Range) bool {
	for _, h := range rs {
		if h.Overlaps(r) {
			return true
		}
	}
	return false
}

// LowRangeShare: a period runs low when less than a tenth of its numbers
// are left (and then finance should ask the platform for another range).
const LowRangeShare = 10

// RangeUse is one range of a period with the numbers it has used and left.
type RangeUse struct {
	twrules.Range
	Used, Left int64
}

// RangeStatus is what finance sees of a period's numbers.
type RangeStatus struct {
	Period           string
	Ranges           []RangeUse
	Size, Used, Left int64
	// Skipped are the used numbers taken out of use (SkipNumbers), not
	// issued by this history.
	Skipped int64
	// Passed are numbers below the last used that no invoice carries (an
	// invoice issued in two periods at once, as one period turned into
	// the next): never used, they are reported blank (E0402) with Left.
	Passed int64
	// Low warns that less than 1/LowRangeShare of the numbers are left.
	Low bool
	// Withdrawn are the ranges taken back (WithdrawRange), not counted
	// above.
	Withdrawn []WithdrawnRange
}

// RangeStatus reports a period's ranges and the numbers left.
func (s *Service) RangeStatus(period string) RangeStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rangeStatus(period)
}

// rangeStatus is RangeStatus with s.mu held.
func (s *Service) rangeStatus(period string) RangeStatus {
	out := RangeStatus{Period: period}
	st := s.l.ranges[period]
	if st == nil {
		return out
	}
	used := st.rngs.Used(st.count)
	for i, r := range st.rngs {
		out.Ranges = append(out.Ranges, RangeUse{Range: r, Used: used[i], Left: r.Size() - used[i]})
		out.Used += used[i]
	}
	out.Size = st.rngs.Size()
	out.Left = out.Size - out.Used
	out.Skipped = st.skipped
	for _, g := range st.passed {
		out.Passed += g[1] - g[0] + 1
	}
	out.Low = out.Size > 0 && out.Left*LowRangeShare < out.Size
	out.Withdrawn = slices.Clone(st.withdrawn)
	return out
}

// Range returns the first range of a period and how many numbers the
// period has used.
func (s *Service) Range(period string) (r twrules.Range, used int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.l.ranges[period]
	if st == nil || !st.assigned {
		return twrules.Range{}, 0, false
	}
	return st.rngs[0], st.count, true
}

func noRange(period twrules.Period) error {
	return fmt.Errorf("%w %s (routefree invoices range --period %s …)", ErrNoRange, period, period)
}

// draft is an invoice to issue: everything but its number.
type draft struct {
	id  uuid.UUID
	inv domain.InvoiceIssued
}

// maxBatch caps the invoices of one append: the close issues in batches so
// that 10,000 invoices do not wait for 10,000 commits.
const maxBatch = 500

// refusal is a draft whose invoice could not be printed or filed: it takes
// no number and nothing of it is recorded, while the drafts beside it are
// issued.
type refusal struct {
	d   draft
	why string
}

func (r refusal) err() error { return fmt.Errorf("%w: %s", ErrInvalid, r.why) }

// allocate numbers and appends drafts to the range stream of the period of
// issue: the next number is From + the count of invoices in the stream,
// and the append expects the stream's last version, so concurrent issuers
// (in this or another process) never share or skip a number; the loser
// reads again and retries. A draft whose natural key already has an
// invoice is not issued again; the existing invoice is returned with
// created false. A draft that cannot be printed or filed is refused, and
// the others are issued. When the range runs out, the drafts that fit are
// issued and the error wraps ErrRangeExhausted.
func (s *Service) allocate(ctx context.Context, drafts []draft) (out []Invoice, created []bool, refused []refusal, err error) {
	for len(drafts) > 0 {
		n := min(len(drafts), maxBatch)
		got, fresh, no, done, err := s.allocateBatch(ctx, drafts[:n])
		out, created, refused = append(out, got...), append(created, fresh...), append(refused, no...)
		if err != nil {
			return out, created, refused, err
		}
		drafts = drafts[done:]
	}
	return out, created, refused, nil
}

// allocateOne issues one draft; its refusal is the error.
func (s *Service) allocateOne(ctx context.Context, d draft) (Invoice, bool, error) {
	out, created, refused, err := s.allocate(ctx, []draft{d})
	switch {
	case err != nil:
		return Invoice{}, false, err
	case len(refused) > 0:
		return Invoice{}, false, refused[0].err()
	}
	return out[0], created[0], nil
}

// allocateBatch issues a prefix of drafts (all of them unless the range
// runs out): it returns the invoices of those not refused, in order, the
// refused ones, and how many drafts it decided.
func (s *Service) allocateBatch(ctx context.Context, drafts []draft) ([]Invoice, []bool, []refusal, int, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, 0, err
		}
		// The date of issue is read anew for each attempt, before the
		// stream it numbers from: an append that succeeds expects the
		// stream as it was then, so no number was taken between this date
		// and this number (see number for a rival whose clock runs ahead).
		at := s.issueTime()
		period := twrules.PeriodOf(at)
		stream := domain.InvoiceRangeStream(period.String())
		last := s.rangeVersion(period.String())
		if err := s.catchUpStream(ctx, stream, last); err != nil {
			return nil, nil, nil, 0, err
		}
		// An issuer on the other side of the period's change (its clock a
		// moment behind or ahead) may have issued one of these drafts in
		// the neighbouring period just now: read those streams too, so
		// that it is not numbered again here. The store would keep the
		// first, and this append would pass over its number (applyRange).
		for _, n := range []twrules.Period{period.Prev(), period.Next()} {
			if err := s.catchUpStream(ctx, domain.InvoiceRangeStream(n.String()), s.rangeVersion(n.String())); err != nil {
				return nil, nil, nil, 0, err
			}
		}
		events, fits, refused, exhausted, err := s.number(ctx, period, at, drafts)
		if err != nil {
			return nil, nil, nil, 0, err
		}
		var written []eventstore.EventData
		if len(events) > 0 {
			res, err := s.store.Append(ctx, stream, eventstore.Exact(uint64(last)), events...)
			if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
				// Another issuer took the numbers: read again, decide again.
				time.Sleep(time.Duration(rand.IntN(1+min(attempt, 20))) * time.Millisecond)
				continue
			}
			if err != nil {
				return nil, nil, nil, 0, err
			}
			// An event another issuer stored first (the same draft, numbered
			// alike) is its invoice, not this close's: the store tells.
			for _, e := range events {
				if !slices.Contains(res.Existing, e.ID) {
					written = append(written, e)
				}
			}
			if err := s.catchUpStream(ctx, stream, s.rangeVersion(period.String())); err != nil {
				return nil, nil, nil, 0, err
			}
		}
		issued := make([]draft, 0, fits)
		for _, d := range drafts[:fits] {
			if !slices.ContainsFunc(refused, func(r refusal) bool { return r.d.id == d.id }) {
				issued = append(issued, d)
			}
		}
		out, created, err := s.results(ctx, issued, written)
		if err == nil && exhausted != nil {
			err = exhausted
		}
		return out, created, refused, fits, err
	}
}

// number gives each draft that has no invoice yet the next number, dated
// at, or at the latest date in the range if a rival whose clock runs ahead
// has used it: numbers go in the order of their dates. It returns the
// events to append, how many drafts they, the existing invoices and the
// refusals cover, the refusals, and the exhaustion error for the rest.
func (s *Service) number(ctx context.Context, period twrules.Period, at time.Time, drafts []draft) (events []eventstore.EventData, fits int, refused []refusal, exhausted, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.l.ranges[period.String()]
	if st == nil || !st.assigned {
		return nil, 0, nil, nil, noRange(period)
	}
	if at.Before(st.latest) {
		at = st.latest
	}
	next := st.count
	for _, d := range drafts {
		if s.l.issued(d) != nil {
			fits++
			continue
		}
		number, err := st.rngs.Next(next)
		if err != nil {
			return events, fits, refused, fmt.Errorf("invoicing: period %s: %w", period, err), nil
		}
		inv := d.inv
		inv.Number, inv.Period, inv.IssuedAt = number, period.String(), at
		balanceLines(&inv)
		if a := s.l.accounts[inv.AccountID]; a != nil && inv.Kind == pdf.KindB2C && inv.Carrier == "" && inv.DonationCode == "" {
			// Where the customer asked B2C invoices to go, as of issue.
			inv.Carrier, inv.DonationCode = a.Carrier(), a.DonationCode()
		}
		if inv.Seller == nil {
			inv.Seller = s.seller.Snapshot()
		}
		inv.UploadBy = twrules.UploadDeadline(inv.Kind == pdf.KindB2B, inv.IssuedAt)
		fits++
		if why := s.unprintable(&inv); why != "" {
			refused = append(refused, refusal{d, why})
			continue
		}
		e, err := encode(ctx, d.id, inv.IssuedAt, &inv)
		if err != nil {
			return nil, 0, nil, nil, err
		}
		events = append(events, e)
		next++
	}
	return events, fits, refused, nil, nil
}

// unprintable says why an invoice's proof cannot be printed with the font,
// or why its buyer name cannot be filed (a buyer named before account
// opening checked names), or "": no invoice is issued that cannot be
// printed and filed.
func (s *Service) unprintable(inv *domain.InvoiceIssued) string {
	// Nor one that cannot be filed: MIG bounds the buyer's name.
	if n := utf8.RuneCountInString(inv.BuyerName); n > domain.MaxBuyerName {
		return fmt.Sprintf("the invoice of account %s cannot be filed: its organisation name is %d characters, an e-invoice's buyer name at most %d",
			inv.AccountID, n, domain.MaxBuyerName)
	}
	texts := []string{inv.BuyerName, inv.Carrier, inv.Seller.Name, inv.Seller.Address, inv.Seller.Phone}
	for _, l := range inv.Lines {
		texts = append(texts, l.Description, l.Unit)
	}
	if err := s.renderer.Printable(texts...); err != nil {
		return fmt.Sprintf("the invoice of account %s cannot be printed (%v): set ROUTEFREE_INVOICE_FONT to a font that has these characters", inv.AccountID, err)
	}
	return ""
}

// results looks up the stored invoice of each draft; created says which of
// them this call's append wrote (written). An event ID that the store
// already held elsewhere (the same invoice issued in another period's
// stream) is found after a full Sync.
func (s *Service) results(ctx context.Context, drafts []draft, written []eventstore.EventData) ([]Invoice, []bool, error) {
	for pass := 0; pass < 2; pass++ {
		out := make([]Invoice, 0, len(drafts))
		missing := false
		s.mu.Lock()
		for _, d := range drafts {
			inv := s.l.issued(d)
			if inv == nil {
				missing = true
				break
			}
			out = append(out, inv.clone())
		}
		s.mu.Unlock()
		if !missing {
			if err := s.LoadDocuments(ctx, out); err != nil {
				return nil, nil, err
			}
			created := make([]bool, len(out))
			for i, d := range drafts {
				created[i] = out[i].EventID == d.id && eventstore.HasID(written, d.id)
			}
			return out, created, nil
		}
		if err := s.Sync(ctx); err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, fmt.Errorf("%w: an issued invoice is missing from the store after its append", ErrConflict)
}

// parseRange reads a period and one of its ranges as finance types them.
func parseRange(period, prefix string, from, to int64) (twrules.Period, twrules.Range, error) {
	r := twrules.Range{Prefix: prefix, From: from, To: to}
	p, err := twrules.ParsePeriod(period)
	if err == nil {
		err = r.Validate()
	}
	if err != nil {
		return p, r, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return p, r, nil
}
