package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// Two accounts whose IDs differ only in case (acme, ACME) would look alike
// on invoices, keys and payments, so an account is not opened beside one
// whose ID equals its own ignoring case (strings.EqualFold). The decision
// is the store's: an account's opening is stored under an event ID of its
// ID case-folded (accountOpenedID), which the store keeps once, so of two
// processes opening acme and ACME at once one is stored and the other
// learns it from its append. Accounts opened before, under event IDs of
// their own, are found by their IDs (lookAlikeOpened); look-alike pairs
// such a history holds already keep working.

// foldCase writes s with each letter as the least of its simple case
// folds: two strings fold alike exactly when strings.EqualFold holds.
func foldCase(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// accountOpenedID is the event ID of the opening of the account id: one
// for every way of writing id in upper or lower case.
func accountOpenedID(id string) uuid.UUID {
	return domain.EventID(domain.TypeAccountOpened, "account", foldCase(id))
}

// accountExists is the refusal of an account ID taken: by that very ID,
// or by one that differs from it only in case.
func accountExists(id, existing string) error {
	if existing == id {
		return fmt.Errorf("%w: account %s already exists", ErrConflict, id)
	}
	return fmt.Errorf("%w: account ID %s differs only in case from account %s, which exists: the two would look alike on invoices, keys and payments; use %s, or another ID",
		ErrConflict, id, existing, existing)
}

// refuseTakenAccountID refuses an ID that an opened account holds, as it
// is or in another case, before anything is appended.
func (h *Handler) refuseTakenAccountID(ctx context.Context, id string) error {
	if _, _, err := h.Account(ctx, id); err == nil {
		return accountExists(id, id)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if other, found, err := h.openedUnder(ctx, accountOpenedID(id)); err != nil || found {
		if found {
			return accountExists(id, other)
		}
		return err
	}
	others, err := h.lookAlikeOpened(ctx, id)
	if err != nil || len(others) == 0 {
		return err
	}
	return accountExists(id, others[0])
}

// openedUnder reads which account's opening is stored under event ID id,
// where the store reads events by ID.
func (h *Handler) openedUnder(ctx context.Context, id uuid.UUID) (string, bool, error) {
	r, ok := h.Store.(eventstore.EventReader)
	if !ok {
		return "", false, nil
	}
	e, err := r.ReadEvent(ctx, id)
	if errors.Is(err, eventstore.ErrEventNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	d, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return "", false, err
	}
	a, ok := d.(*domain.AccountOpened)
	if !ok {
		return "", false, fmt.Errorf("event %s under an account's opening is a %s", id, e.Type)
	}
	return a.AccountID, true, nil
}

// lookAlikeOpened lists the opened accounts whose IDs equal id ignoring
// case but differ from it: from the read model when the handler has one,
// else from the store's history.
func (h *Handler) lookAlikeOpened(ctx context.Context, id string) ([]string, error) {
	if h.LookAlikeAccounts != nil {
		return h.LookAlikeAccounts(id), nil
	}
	var out []string
	err := h.walkHistory(ctx, func(_ *eventstore.RecordedEvent, d domain.Event) {
		if a := d.(*domain.AccountOpened); a.AccountID != id && strings.EqualFold(a.AccountID, id) && !slices.Contains(out, a.AccountID) {
			out = append(out, a.AccountID)
		}
	}, domain.TypeAccountOpened)
	return out, err
}

// openedFirst names the account whose opening the store kept under the
// event ID that the opening of id has: one opened meanwhile, by another
// process, with id in this or another case.
func (h *Handler) openedFirst(ctx context.Context, id string) error {
	other, found, err := h.openedUnder(ctx, accountOpenedID(id))
	if err != nil {
		return err
	}
	if !found {
		// A store that cannot read by ID: the history names it.
		if _, _, err := h.Account(ctx, id); err == nil {
			return accountExists(id, id)
		}
		others, err := h.lookAlikeOpened(ctx, id)
		if err != nil {
			return err
		}
		if len(others) == 0 {
			return fmt.Errorf("%w: an account whose ID differs from %s only in case was opened meanwhile", ErrConflict, id)
		}
		other = others[0]
	}
	return accountExists(id, other)
}
