package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
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
		return KeyState{}, fmt.Errorf("%w: key %s", ErrNotFound, domain.Excerpt(keyID))
	}
	st := KeyState{Key: *evs[0].(*domain.KeyIssued), last: last}
	for _, e := range evs[1:] {
		switch v := e.(type) {
		case *domain.KeyChanged:
			st.Key = v.Changed(st.Key)
		case *domain.KeyExpiryChanged:
			st.Key.ExpiresAt = v.ExpiresAt
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
	return decideAgain(ctx, func() error { return h.setKeyDisabled(ctx, keyID, disabled) })
}

func (h *Handler) setKeyDisabled(ctx context.Context, keyID string, disabled bool) error {
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
// plain text of at most maxKeyName characters (a name is shown in lists,
// pages and CSV exports).
func keyName(name string) (string, error) {
	name, err := plainText("a key's name", name, maxKeyName)
	if err == nil && name == "" {
		err = invalid("a key needs a name")
	}
	return name, err
}

// Bounds of the other free texts that commands record, in characters.
const (
	maxReference = 200  // a top-up's external reference
	maxReason    = 1000 // why an adjustment, a suspension or a resumption
)

// plainText checks a free text that an event keeps for good and that
// lists, CSV files, the audit log and the CLI show, and returns it
// trimmed: UTF-8 of at most max characters, with no control characters
// (line breaks, escapes that drive a terminal) and no bidirectional
// overrides or isolates (which make a text read as another). what names
// the field in a refusal.
func plainText(what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		return "", invalid("%s must be UTF-8 text", what)
	case utf8.RuneCountInString(s) > max:
		return "", invalid("%s is at most %d characters", what, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || domain.IsBidiControl(r) {
			return "", invalid("%s must not contain control characters (U+%04X)", what, r)
		}
	}
	return s, nil
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
	return decideAgain(ctx, func() error { return h.changeKey(ctx, c, check) })
}

func (h *Handler) changeKey(ctx context.Context, c domain.KeyChanged, check func(before, after domain.KeyIssued) error) error {
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
	if err := h.raiseWithinShare(ctx, st.Key, after); err != nil {
		return err
	}
	_, err = h.append(ctx, domain.KeyStream(c.KeyID), eventstore.Exact(uint64(st.last)), uuid.New(), &c)
	return err
}

// ChangeKeyExpiry sets, moves or clears (nil) a key's expiry. The new
// instant is kept to the second and must be in the future; a key already
// past its expiry may be given a new one. A revoked key is not changed.
// check, when set, sees the key as it is and as it would be, and may
// refuse. Nothing is written when the expiry stays the same.
func (h *Handler) ChangeKeyExpiry(ctx context.Context, keyID string, at *time.Time, check func(before, after domain.KeyIssued) error) error {
	if at != nil {
		t := at.UTC().Truncate(time.Second)
		if !t.After(h.Now()) {
			return invalid("a key's expiry must be in the future (%s given)", t.Format(time.RFC3339))
		}
		at = &t
	}
	return decideAgain(ctx, func() error { return h.changeKeyExpiry(ctx, keyID, at, check) })
}

func (h *Handler) changeKeyExpiry(ctx context.Context, keyID string, at *time.Time, check func(before, after domain.KeyIssued) error) error {
	st, err := h.Key(ctx, keyID)
	if err != nil {
		return err
	}
	if st.Revoked {
		return fmt.Errorf("%w: key %s is revoked", ErrConflict, keyID)
	}
	after := st.Key
	after.ExpiresAt = at
	if check != nil {
		if err := check(st.Key, after); err != nil {
			return err
		}
	}
	was := st.Key.ExpiresAt
	if was == nil && at == nil || was != nil && at != nil && was.Equal(*at) {
		return nil
	}
	e := &domain.KeyExpiryChanged{KeyID: keyID, AccountID: st.Key.AccountID, ExpiresAt: at}
	_, err = h.append(ctx, domain.KeyStream(keyID), eventstore.Exact(uint64(st.last)), uuid.New(), e)
	return err
}
