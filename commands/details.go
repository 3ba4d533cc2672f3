package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// DetailsChange corrects an account's details: each field given (not nil)
// replaces the account's ("" clears the 統一編號, address or contact), the
// others keep their value. Reason is required.
type DetailsChange struct {
	Organisation, TaxID, Address, Contact *string
	Reason                                string
}

// FieldChange is one detail that a change sets anew.
type FieldChange struct {
	Field    string // organisation, tax_id, address or contact
	Was, Now string
}

// Changes lists the details that differ between was and now, in the
// order of the fields.
func Changes(was, now domain.AccountDetails) []FieldChange {
	out := []FieldChange{}
	for _, f := range []FieldChange{
		{"organisation", was.Organisation, now.Organisation}, {"tax_id", was.TaxID, now.TaxID},
		{"address", was.Address, now.Address}, {"contact", was.Contact, now.Contact},
	} {
		if f.Was != f.Now {
			out = append(out, f)
		}
	}
	return out
}

// detailsProblems says what no account may be opened or corrected to: a
// name missing, too long for an e-invoice or holding characters the
// invoice font cannot print (it is printed and filed on every B2B
// invoice), a 統一編號 that fails its check.
func detailsProblems(d domain.AccountDetails) []string {
	var problems []string
	if d.Organisation == "" {
		problems = append(problems, "organisation is required")
	} else if p := domain.BuyerNameProblem("organisation", d.Organisation); p != "" {
		problems = append(problems, p)
	}
	if p := domain.TaxIDProblem(d.TaxID); d.TaxID != "" && p != "" {
		problems = append(problems, fmt.Sprintf("統一編號 %s %s", domain.Quote(d.TaxID), p))
	}
	for _, f := range []struct{ field, text string }{{"address", d.Address}, {"contact", d.Contact}} {
		if p := detailTextProblem(f.field, f.text); p != "" {
			problems = append(problems, p)
		}
	}
	return problems
}

// maxDetailRunes bounds an account's address (MIG's Address is 100
// characters) and contact, as a quote's are.
const maxDetailRunes = 100

// detailTextProblem says why an account's address or contact cannot be
// kept ("" when it can): longer than maxDetailRunes, or holding a control
// character (a NUL, a line break) or a bidirectional control, which would
// make it read as another text wherever it is shown.
func detailTextProblem(field, s string) string {
	if n := utf8.RuneCountInString(s); n > maxDetailRunes {
		return fmt.Sprintf("an account's %s is at most %d characters (%d given)", field, maxDetailRunes, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) || domain.IsBidiControl(r) {
			return fmt.Sprintf("an account's %s must not contain control characters (U+%04X)", field, r)
		}
	}
	return ""
}

// decideDetails is what c makes of the account's details s, or why it is
// refused.
func decideDetails(s AccountState, c DetailsChange) (was, now domain.AccountDetails, err error) {
	was = s.Details()
	now = was
	for _, f := range []struct {
		given *string
		to    *string
	}{{c.Organisation, &now.Organisation}, {c.TaxID, &now.TaxID}, {c.Address, &now.Address}, {c.Contact, &now.Contact}} {
		if f.given != nil {
			*f.to = strings.TrimSpace(*f.given)
		}
	}
	if c.TaxID != nil {
		now.TaxID = domain.TaxIDAsTyped(*c.TaxID)
	}
	if problems := detailsProblems(now); len(problems) > 0 {
		return was, now, invalid("%s", strings.Join(problems, "; "))
	}
	return was, now, nil
}

// detailsReason checks a correction's reason.
func detailsReason(reason string) (string, error) {
	reason, err := plainText("a correction's reason", reason, maxReason)
	if err == nil && reason == "" {
		err = invalid("correcting an account's details needs a reason")
	}
	return reason, err
}

// CheckAccountDetails answers what ChangeAccountDetails would, recording
// nothing: a form shows the changes before it asks to confirm them.
func (h *Handler) CheckAccountDetails(ctx context.Context, id string, c DetailsChange) (was, now domain.AccountDetails, err error) {
	if _, err := detailsReason(c.Reason); err != nil {
		return was, now, err
	}
	s, err := h.AccountState(ctx, id)
	if err != nil {
		return was, now, err
	}
	return decideDetails(s, c)
}

// ChangeAccountDetails corrects an account's organisation, 統一編號,
// address and contact, with a reason, and returns its details before and
// after. Details equal to the account's record nothing. The change is
// decided on the account as it stands when it is recorded: one recorded
// meanwhile by another process (the customer's 統一編號, another
// correction) is kept in what c leaves alone.
func (h *Handler) ChangeAccountDetails(ctx context.Context, id string, c DetailsChange) (was, now domain.AccountDetails, err error) {
	reason, err := detailsReason(c.Reason)
	if err != nil {
		return was, now, err
	}
	err = decideAgain(ctx, func() error {
		s, err := h.AccountState(ctx, id)
		if err != nil {
			return err
		}
		if was, now, err = decideDetails(s, c); err != nil || was == now {
			return err
		}
		ev := &domain.AccountDetailsChanged{AccountID: id, Organisation: now.Organisation, TaxID: now.TaxID,
			Address: now.Address, Contact: now.Contact, Reason: reason}
		_, err = h.append(ctx, domain.AccountStream(id), eventstore.Exact(uint64(s.Version)), uuid.New(), ev)
		return err
	})
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		err = fmt.Errorf("%w: account %s kept changing while its details were corrected; nothing was recorded, run it again", ErrConflict, id)
	}
	return was, now, err
}

func (s *AccountState) setDetails(d domain.AccountDetails) {
	s.Organisation, s.TaxID, s.Address, s.Contact = d.Organisation, d.TaxID, d.Address, d.Contact
}
