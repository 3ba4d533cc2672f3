package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// KeyState is a key as its stream tells it: as issued, with every change
// folded in, and whether it is revoked or disabled.
type KeyState struct {
	Key      domain.KeyIssued
	Revoked  bool
	Disabled bool
	last     int64
}

// Key reads a key's stream.
func (h *Handler) Key(ctx context.Context, keyID string) (KeyState, error) {
	evs, last, err := h.readStream(ctx, domain.KeyStream(keyID))
	if err != nil {
		return KeyState{}, err
	}
	if len(evs) == 0 {
		return KeyState{}, fmt.Errorf("%w: key %s", ErrNotFound, keyID)
	}
	st := KeyState{Key: *evs[0].(*domain.KeyIssued), last: last}
	for _, e := range evs[1:] {
		switch v := e.(type) {
		case *domain.KeyChanged:
			st.Key = v.Changed(st.Key)
		case *domain.KeyRevoked:
			st.Revoked = true
		case *domain.KeyDisabled:
			st.Disabled = true
		case *domain.KeyEnabled:
			st.Disabled = false
		}
	}
	return st, nil
}

// SetKeyDisabled disables a key or enables it again. Asking for the state
// the key is already in writes nothing; a revoked key cannot be enabled
// (nor disabled: it is refused for good already). The event's ID is the
// key's next version, so a retried call writes it once.
func (h *Handler) SetKeyDisabled(ctx context.Context, keyID string, disabled bool) error {
	st, err := h.Key(ctx, keyID)
	if err != nil {
		return err
	}
	if st.Revoked {
		return fmt.Errorf("%w: key %s is revoked", ErrConflict, keyID)
	}
	if st.Disabled == disabled {
		return nil
	}
	var e domain.Event = &domain.KeyEnabled{KeyID: keyID, AccountID: st.Key.AccountID}
	if disabled {
		e = &domain.KeyDisabled{KeyID: keyID, AccountID: st.Key.AccountID}
	}
	id := domain.EventID(e.EventType(), keyID, strconv.FormatInt(st.last+1, 10))
	_, err = h.append(ctx, domain.KeyStream(keyID), eventstore.Exact(uint64(st.last)), id, e)
	return err
}

// maxKeyName bounds a key's name, in characters.
const maxKeyName = 200

// keyName checks a key's name as given, and returns it trimmed: not empty,
// text of at most maxKeyName characters with no control characters (a name
// is shown in lists, pages and CSV exports), the directional overrides,
// embeddings and isolates among them: those reorder the text around them,
// so that one key's name could read as another's.
func keyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", invalid("a key needs a name")
	case !utf8.ValidString(name):
		return "", invalid("a key's name must be UTF-8 text")
	case utf8.RuneCountInString(name) > maxKeyName:
		return "", invalid("a key's name is at most %d characters", maxKeyName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || directional(r) {
			return "", invalid("a key's name must not contain control characters (U+%04X)", r)
		}
	}
	return name, nil
}

// directional reports whether r is one of Unicode's explicit directional
// formatting characters (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI). The
// implicit marks (LRM, RLM) and the joiners inside emoji stay allowed.
func directional(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// GivenSpendLimit is the spending limit a caller asked for: nil (left out,
// or null) for none. Stored events say "no limit" with a zero, so a limit
// of zero given is refused rather than read as none.
func GivenSpendLimit(given *decimal.Decimal) (decimal.Decimal, error) {
	switch {
	case given == nil:
		return decimal.Zero, nil
	case given.IsNegative():
		return decimal.Zero, invalid("spending limit must not be negative")
	case given.IsZero():
		return decimal.Zero, invalid("a spending limit of 0 is not offered: leave the limit out (null) for a key without one, or give a positive amount")
	}
	return *given, nil
}

// ChangeKey renames a key and sets its spending limit: c carries the
// key's name, limit and period after the change. A revoked key is not
// changed. check, when set, sees the key as it is and as it would be, and
// may refuse (a management key acting within its own limits). Nothing is
// written when nothing changes.
func (h *Handler) ChangeKey(ctx context.Context, c domain.KeyChanged, check func(before, after domain.KeyIssued) error) error {
	var err error
	if c.SpendPeriod, err = spendTerms(c.SpendLimit, c.SpendPeriod); err != nil {
		return err
	}
	if !c.SpendLimit.IsPositive() {
		c.SpendPeriod = ""
	}
	st, err := h.Key(ctx, c.KeyID)
	if err != nil {
		return err
	}
	if st.Revoked {
		return fmt.Errorf("%w: key %s is revoked", ErrConflict, c.KeyID)
	}
	// A name kept as it is stored is not checked again: a key an older
	// version issued with a name today's rules refuse can still get a new
	// limit.
	if c.Name != st.Key.Name {
		if c.Name, err = keyName(c.Name); err != nil {
			return err
		}
	}
	c.AccountID = st.Key.AccountID
	after := c.Changed(st.Key)
	if check != nil {
		if err := check(st.Key, after); err != nil {
			return err
		}
	}
	if after.Name == st.Key.Name && after.SpendLimit.Equal(st.Key.SpendLimit) &&
		(!after.SpendLimit.IsPositive() || after.SpendPeriod == st.Key.SpendPeriod) {
		return nil
	}
	_, err = h.append(ctx, domain.KeyStream(c.KeyID), eventstore.Exact(uint64(st.last)), uuid.New(), &c)
	return err
}
