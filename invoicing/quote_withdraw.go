package invoicing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/twrules"
)

// QuoteStatus is where a quote stands when it is read.
type QuoteStatus string

const (
	QuoteValid     QuoteStatus = "valid"     // open to acceptance
	QuoteExpired   QuoteStatus = "expired"   // its validity ended unaccepted
	QuoteAccepted  QuoteStatus = "accepted"  // its contract is issued
	QuoteWithdrawn QuoteStatus = "withdrawn" // taken back by finance
	QuoteReplaced  QuoteStatus = "replaced"  // withdrawn for the quote Withdrawal.ReplacedBy
)

// maxWithdrawReasonRunes bounds a withdrawal's reason, which the quote's
// PDF prints under its title.
const maxWithdrawReasonRunes = 200

// withStatus is q with its status now.
func (s *Service) withStatus(q Quote) Quote {
	switch {
	case q.Contract != nil || q.Accepted:
		q.Status = QuoteAccepted
	case q.Withdrawal != nil && q.Withdrawal.ReplacedBy != "":
		q.Status = QuoteReplaced
	case q.Withdrawal != nil:
		q.Status = QuoteWithdrawn
	case !s.now().Before(endOfTaipeiDay(q.IssuedAt.AddDate(0, 0, q.ValidDays))):
		q.Status = QuoteExpired
	default:
		q.Status = QuoteValid
	}
	return q
}

// withdrawnError refuses to act on withdrawn quote q, saying when and why
// it was withdrawn.
func withdrawnError(q Quote) error {
	day := q.WithdrawnAt.In(twrules.Taipei).Format(time.DateOnly)
	if by := q.Withdrawal.ReplacedBy; by != "" {
		return fmt.Errorf("%w: quote %s was withdrawn on %s and replaced by %s", ErrConflict, q.QuoteID, day, by)
	}
	return fmt.Errorf("%w: quote %s was withdrawn on %s: %s", ErrConflict, q.QuoteID, day, q.Withdrawal.Reason)
}

// acceptedError refuses to withdraw or replace accepted quote q.
func acceptedError(q Quote, what string) error {
	return fmt.Errorf("%w: quote %s is accepted as contract %s; an accepted quote cannot be %s",
		ErrConflict, q.QuoteID, q.Contract.ContractID, what)
}

// withdrawReason checks a withdrawal's reason before anything is recorded:
// given, bounded, one line, and printable on the quote's PDF.
func (s *Service) withdrawReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", fmt.Errorf("%w: a withdrawal needs a reason (the quote's PDF prints it)", ErrInvalid)
	}
	if p := textProblem("reason", reason, maxWithdrawReasonRunes, false); p != "" {
		return "", fmt.Errorf("%w: %s", ErrInvalid, p)
	}
	return reason, s.printableReason(reason)
}

// WithdrawQuote takes back a quote issued with a mistake: it can no longer
// be accepted, and its PDF says it was withdrawn, when and why. A quote
// whose contract is issued is refused; a withdrawn quote is answered as it
// is (its first withdrawal stands).
func (s *Service) WithdrawQuote(ctx context.Context, id, reason string) (Quote, error) {
	reason, err := s.withdrawReason(reason)
	if err != nil {
		return Quote{}, err
	}
	if err := s.Sync(ctx); err != nil {
		return Quote{}, err
	}
	stream := domain.QuoteStream(id)
	// An acceptance appended meanwhile makes it decide again.
	for attempt := 0; attempt < 5; attempt++ {
		q, err := s.Quote(id)
		switch {
		case err != nil:
			return Quote{}, err
		case q.Withdrawal != nil:
			return q, nil
		case q.Contract != nil:
			return Quote{}, acceptedError(q, "withdrawn")
		}
		d, err := encode(ctx, domain.EventID(domain.TypeQuoteWithdrawn, id), s.issueTime(), &domain.QuoteWithdrawn{QuoteID: id, Reason: reason})
		if err != nil {
			return Quote{}, err
		}
		if _, err := s.store.Append(ctx, stream, eventstore.Exact(uint64(q.version)), d); err != nil && !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return Quote{}, err
		}
		if err := s.catchUpStream(ctx, stream, q.version); err != nil {
			return Quote{}, err
		}
	}
	return Quote{}, fmt.Errorf("%w: quote %s changed meanwhile; try again", ErrConflict, id)
}

// replaceQuote withdraws the quote that q replaces, naming q, before q is
// recorded: the old quote's stream decides between its acceptance and its
// replacement, and a refused replacement records nothing. It returns q as
// issued already when this request was answered before (keyed: a key
// that issued another quote is a conflict). When the old quote was
// withdrawn for a replacement that was never recorded (cut off between
// the two appends, and sent again on a later Taipei day, whose date names
// it otherwise), q takes the name the withdrawal gives.
func (s *Service) replaceQuote(ctx context.Context, q *domain.QuoteIssued, keyed bool) (*Quote, error) {
	if err := s.catchUpStream(ctx, domain.QuoteStream(q.QuoteID), -1); err != nil {
		return nil, err
	}
	got, err := s.Quote(q.QuoteID)
	exists := err == nil
	switch {
	case exists && sameQuote(got.QuoteIssued, *q):
		return &got, nil
	case exists && keyed:
		return nil, fmt.Errorf("%w: this key already issued quote %s, for another request", ErrConflict, got.QuoteID)
	}
	old := domain.QuoteStream(q.Replaces)
	if err := s.catchUpStream(ctx, old, -1); err != nil {
		return nil, err
	}
	for attempt := 0; attempt < 5; attempt++ {
		o, err := s.Quote(q.Replaces)
		if err != nil {
			return nil, err
		}
		if wd := o.Withdrawal; wd != nil {
			day := o.WithdrawnAt.In(twrules.Taipei).Format(time.DateOnly)
			named, err := s.recordedQuote(ctx, wd.ReplacedBy)
			if err != nil {
				return nil, err
			}
			switch {
			case wd.ReplacedBy == q.QuoteID && !exists:
				return nil, nil // replaced for this quote, which a failure kept from being recorded
			case wd.ReplacedBy != "" && !named && wd.Reason != q.ReplaceReason:
				return nil, fmt.Errorf("%w: quote %s was withdrawn on %s for replacement %s, which was never issued, with the reason %s: send the replacement with that reason",
					ErrConflict, o.QuoteID, day, wd.ReplacedBy, domain.Quote(wd.Reason))
			case wd.ReplacedBy != "" && !named:
				q.QuoteID = wd.ReplacedBy
				return nil, nil
			case wd.ReplacedBy != "":
				return nil, fmt.Errorf("%w: quote %s was already replaced by %s on %s", ErrConflict, o.QuoteID, wd.ReplacedBy, day)
			default:
				return nil, fmt.Errorf("%w: quote %s was withdrawn on %s; issue the new quote without replaces", ErrConflict, o.QuoteID, day)
			}
		}
		if o.Contract != nil {
			return nil, acceptedError(o, "replaced")
		}
		d, err := encode(ctx, domain.EventID(domain.TypeQuoteWithdrawn, o.QuoteID), s.issueTime(),
			&domain.QuoteWithdrawn{QuoteID: o.QuoteID, ReplacedBy: q.QuoteID, Reason: q.ReplaceReason})
		if err != nil {
			return nil, err
		}
		if _, err := s.store.Append(ctx, old, eventstore.Exact(uint64(o.version)), d); err != nil && !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return nil, err
		}
		if err := s.catchUpStream(ctx, old, o.version); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: quote %s changed meanwhile; try again", ErrConflict, q.Replaces)
}

// recordedQuote reports whether quote id is recorded, reading its stream
// from the store first.
func (s *Service) recordedQuote(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	if err := s.catchUpStream(ctx, domain.QuoteStream(id), -1); err != nil {
		return false, err
	}
	_, err := s.Quote(id)
	return err == nil, nil
}
