package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// StaffTokenPrefix starts every staff token, so a leaked one is recognisable
// and never mistaken for a customer's API key.
const StaffTokenPrefix = "rf-staff-"

func validStaffRole(role string) bool {
	return role == "admin" || role == "finance" || role == "auditor"
}

// IssueStaffToken creates a staff token and returns it in clear, once; only
// its SHA-256 hash is recorded.
func (h *Handler) IssueStaffToken(ctx context.Context, role, name string) (tokenID, secret string, err error) {
	secret = StaffTokenPrefix + randomID(40)
	tokenID, err = h.RegisterStaffToken(ctx, role, name, secret)
	if err != nil {
		return "", "", err
	}
	return tokenID, secret, nil
}

// RevokedStaffTokenError is RegisterStaffToken's refusal of a token that
// staff revoked: a conflict, naming the token.
type RevokedStaffTokenError struct{ ID string }

func (e *RevokedStaffTokenError) Error() string {
	return ErrConflict.Error() + ": staff token " + e.ID + " was revoked"
}

func (e *RevokedStaffTokenError) Is(target error) bool { return target == ErrConflict }

// RegisterStaffToken records a token chosen outside (ROUTEFREE_ADMIN_TOKEN).
// Its ID derives from its hash, so registering the same token again is a
// no-op rather than a second token; a revoked one stays revoked (ErrConflict).
func (h *Handler) RegisterStaffToken(ctx context.Context, role, name, secret string) (string, error) {
	if !validStaffRole(role) {
		return "", invalid("role must be admin, finance or auditor")
	}
	if len(secret) < 24 {
		return "", invalid("a staff token needs at least 24 characters")
	}
	name, err := plainText("a staff token's name", name, maxKeyName)
	if err != nil {
		return "", err
	}
	hash := HashKey(secret)
	id := "stf_" + hash[:16]
	evs, _, err := h.readStream(ctx, domain.StaffStream(id))
	if err != nil {
		return "", err
	}
	if len(evs) > 0 {
		if prev, ok := evs[0].(*domain.StaffTokenIssued); !ok || prev.Hash != hash {
			return "", fmt.Errorf("%w: staff token ID %s is taken", ErrConflict, id)
		}
		revoked, err := h.staffTokenRevoked(ctx, id, evs)
		if err != nil {
			return "", err
		}
		if revoked {
			return "", &RevokedStaffTokenError{ID: id}
		}
		return id, nil
	}
	ev := &domain.StaffTokenIssued{TokenID: id, Role: role, Name: name, Hash: hash}
	_, err = h.append(ctx, domain.StaffStream(id), expectAfter(-1), domain.EventID(domain.TypeStaffTokenIssued, id), ev)
	if errors.Is(err, ErrConflict) { // registered concurrently with the same hash
		return id, nil
	}
	return id, err
}

// staffTokenRevoked tells whether the token whose stream holds evs is
// revoked: in its own stream, or for an admin token in the shared one.
func (h *Handler) staffTokenRevoked(ctx context.Context, id string, evs []domain.Event) (bool, error) {
	if len(evs) > 1 {
		return true, nil
	}
	if issued, ok := evs[0].(*domain.StaffTokenIssued); !ok || issued.Role != "admin" {
		return false, nil
	}
	revoked, _, err := h.adminRevocations(ctx)
	return revoked[id], err
}

// StaffToken is a staff token as the commands see it: never its hash.
type StaffToken struct {
	TokenID   string        `json:"token_id"`
	Role      string        `json:"role"`
	Name      string        `json:"name,omitempty"`
	IssuedAt  time.Time     `json:"issued_at"`
	IssuedBy  domain.Actor  `json:"issued_by"`
	Revoked   bool          `json:"revoked"`
	RevokedAt time.Time     `json:"revoked_at,omitzero"`
	RevokedBy *domain.Actor `json:"revoked_by,omitempty"`
}

// ListStaffTokens lists every staff token by issue time: from the read model
// when the handler has one, else from the store's whole history.
func (h *Handler) ListStaffTokens(ctx context.Context) ([]StaffToken, error) {
	if h.StaffTokens != nil {
		return h.StaffTokens(ctx)
	}
	var out []StaffToken
	byID := map[string]int{}
	err := h.walkHistory(ctx, func(e *eventstore.RecordedEvent, d domain.Event) {
		switch v := d.(type) {
		case *domain.StaffTokenIssued:
			byID[v.TokenID] = len(out)
			out = append(out, StaffToken{TokenID: v.TokenID, Role: v.Role, Name: v.Name, IssuedAt: e.OccurredAt, IssuedBy: v.Actor})
		case *domain.StaffTokenRevoked:
			if i, ok := byID[v.TokenID]; ok && !out[i].Revoked {
				by := v.Actor
				out[i].Revoked, out[i].RevokedAt, out[i].RevokedBy = true, e.OccurredAt, &by
			}
		}
	}, domain.TypeStaffTokenIssued, domain.TypeStaffTokenRevoked)
	return out, err
}

// walkHistory hands every event of the given types in the store's whole
// history, decoded, to f in order: for the commands that run without a
// read model (the CLI).
func (h *Handler) walkHistory(ctx context.Context, f func(*eventstore.RecordedEvent, domain.Event), types ...string) error {
	pos := eventstore.Start
	for {
		evs, err := h.Store.ReadAll(ctx, pos, 5000)
		if err != nil || len(evs) == 0 {
			return err
		}
		for i := range evs {
			e := &evs[i]
			pos = e.Position
			if !slices.Contains(types, e.Type) {
				continue
			}
			d, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return err
			}
			f(e, d)
		}
	}
}

// RevokeStaffToken ends a staff token; revoking twice is harmless. The last
// admin token that is not revoked cannot be: nobody could then manage
// staff from the console.
func (h *Handler) RevokeStaffToken(ctx context.Context, tokenID string) error {
	evs, last, err := h.readStream(ctx, domain.StaffStream(tokenID))
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		return fmt.Errorf("%w: staff token %s", ErrNotFound, domain.Excerpt(tokenID))
	}
	if len(evs) > 1 {
		return nil
	}
	if issued, ok := evs[0].(*domain.StaffTokenIssued); ok && issued.Role == "admin" {
		return h.revokeAdminToken(ctx, tokenID)
	}
	_, err = h.append(ctx, domain.StaffStream(tokenID), expectAfter(last),
		domain.EventID(domain.TypeStaffTokenRevoked, tokenID), &domain.StaffTokenRevoked{TokenID: tokenID})
	return err
}

// adminDecisionTries bounds revokeAdminToken's decisions. Each conflict
// means another admin token was revoked meanwhile, and there are only so
// many of them.
const adminDecisionTries = 20

// revokeAdminToken revokes an admin token in the admin tokens' shared
// stream, at the version its decision read: two revocations at once, from
// any processes, cannot both pass the last-admin check on the same state.
// The one that loses the race decides again on the new state.
func (h *Handler) revokeAdminToken(ctx context.Context, tokenID string) error {
	for range adminDecisionTries {
		revoked, last, err := h.adminRevocations(ctx)
		if err != nil {
			return err
		}
		if revoked[tokenID] {
			return nil
		}
		others, err := h.otherActiveAdmins(ctx, tokenID, revoked)
		if err != nil {
			return err
		}
		if others == 0 {
			return fmt.Errorf("%w: %s is the last admin token; issue another admin token before revoking it", ErrConflict, tokenID)
		}
		_, err = h.append(ctx, domain.StaffAdminsStream, expectAfter(last),
			domain.EventID(domain.TypeStaffTokenRevoked, tokenID), &domain.StaffTokenRevoked{TokenID: tokenID})
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("%w: admin tokens kept changing while %s was being revoked; try again", ErrConflict, tokenID)
}

// adminRevocations reads the admin tokens revoked in the shared stream, and
// its last version (-1: none yet).
func (h *Handler) adminRevocations(ctx context.Context) (map[string]bool, int64, error) {
	evs, last, err := h.readStream(ctx, domain.StaffAdminsStream)
	if err != nil {
		return nil, 0, err
	}
	revoked := map[string]bool{}
	for _, e := range evs {
		if r, ok := e.(*domain.StaffTokenRevoked); ok {
			revoked[r.TokenID] = true
		}
	}
	return revoked, last, nil
}

// otherActiveAdmins counts the admin tokens other than tokenID that are not
// revoked, by the list or by revoked (the shared stream, read from the
// store). The list may lag the store (a read model): an admin token issued
// since is missed, which only refuses more.
func (h *Handler) otherActiveAdmins(ctx context.Context, tokenID string, revoked map[string]bool) (int, error) {
	tokens, err := h.ListStaffTokens(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range tokens {
		if t.Role == "admin" && !t.Revoked && !revoked[t.TokenID] && t.TokenID != tokenID {
			n++
		}
	}
	return n, nil
}
