package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// AccountState is an account folded from its whole stream: what a change of
// one setting must carry over unchanged.
type AccountState struct {
	domain.AccountOpened
	RPM, TPM       int64
	VolumeDiscount decimal.Decimal
	Suspended      bool
	Version        int64 // last version of the account stream
}

// AccountState folds an account's stream.
func (h *Handler) AccountState(ctx context.Context, id string) (AccountState, error) {
	evs, last, err := h.readStream(ctx, domain.AccountStream(id))
	if err != nil {
		return AccountState{}, err
	}
	if len(evs) == 0 {
		return AccountState{}, fmt.Errorf("%w: account %s", ErrNotFound, domain.Excerpt(id))
	}
	s := AccountState{AccountOpened: *evs[0].(*domain.AccountOpened), Version: last}
	for _, e := range evs[1:] {
		switch v := e.(type) {
		case *domain.PlanChanged:
			s.Plan, s.CreditLimit, s.RPM, s.TPM, s.VolumeDiscount = v.Plan, v.CreditLimit, v.RPM, v.TPM, v.VolumeDiscount
		case *domain.AccountSuspended:
			s.Suspended = true
		case *domain.AccountResumed:
			s.Suspended = false
		case *domain.AccountOpened: // opened again: its details are the ones every reader shows
			s.setDetails(v.Details())
		case *domain.AccountDetailsChanged:
			s.setDetails(v.Details())
		case *domain.InvoiceCarrierSet:
			if v.TaxID != nil { // the customer's own 統一編號
				s.TaxID = *v.TaxID
			}
		}
	}
	return s, nil
}

// UpdatePlan changes what change sets of an account's plan, custom limits,
// credit limit and volume discount; change starts from the account as it
// stands, so what it leaves alone keeps its value, and may refuse the
// change with an error. The append expects the
// version that was read: a change that another process (finance's credit
// limit, another operator's command) records meanwhile makes it decide
// again on the newer terms rather than put back the ones it read.
func (h *Handler) UpdatePlan(ctx context.Context, id string, change func(*domain.PlanChanged) error) (domain.PlanChanged, error) {
	pc, _, err := h.DecidePlan(ctx, id, change)
	return pc, err
}

// DecidePlan is UpdatePlan that also says whether the terms changed: terms
// equal to the account's records nothing (changed is false), so a change
// made twice, or one that restates the plan, leaves no event behind.
func (h *Handler) DecidePlan(ctx context.Context, id string, change func(*domain.PlanChanged) error) (pc domain.PlanChanged, changed bool, err error) {
	err = decideAgain(ctx, func() error {
		s, err := h.AccountState(ctx, id)
		if err != nil {
			return err
		}
		pc = domain.PlanChanged{AccountID: id, Plan: s.Plan, RPM: s.RPM, TPM: s.TPM, CreditLimit: s.CreditLimit, VolumeDiscount: s.VolumeDiscount}
		if err := change(&pc); err != nil {
			return err
		}
		if err := checkPlan(pc); err != nil {
			return err
		}
		if changed = !samePlan(pc, s); !changed {
			return nil
		}
		_, err = h.append(ctx, domain.AccountStream(id), eventstore.Exact(uint64(s.Version)), uuid.New(), &pc)
		return err
	})
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return domain.PlanChanged{}, false, fmt.Errorf("%w: account %s kept changing while its plan change was decided; nothing was recorded, run it again", ErrConflict, id)
	}
	return pc, changed, err
}

// SetCreditLimit changes only an account's credit limit (a finance
// decision), keeping its plan, custom limits and discount as they are when
// it is recorded.
func (h *Handler) SetCreditLimit(ctx context.Context, id string, limit decimal.Decimal) error {
	_, err := h.UpdatePlan(ctx, id, func(pc *domain.PlanChanged) error {
		if !pc.Plan.Postpaid() && !limit.IsZero() {
			return invalid("a %s account is prepaid: move it to business or enterprise before giving it credit", pc.Plan)
		}
		if limit.IsNegative() {
			return invalid("credit limit must not be negative")
		}
		if err := checkLimit("a credit limit", limit); err != nil {
			return err
		}
		pc.CreditLimit = limit
		return nil
	})
	return err
}

// SuspendAccount stops every key of an account, with a reason, as its
// resumption has one; suspending twice is harmless.
func (h *Handler) SuspendAccount(ctx context.Context, id, reason string) error {
	reason = strings.TrimSpace(reason)
	if err := CheckSuspendReason(reason); err != nil {
		return err
	}
	return decideAgain(ctx, func() error {
		s, err := h.AccountState(ctx, id)
		if err != nil || s.Suspended {
			return err
		}
		ev := &domain.AccountSuspended{AccountID: id, Reason: reason}
		_, err = h.append(ctx, domain.AccountStream(id), eventstore.Exact(uint64(s.Version)), uuid.New(), ev)
		return err
	})
}

// CheckSuspendReason refuses a suspension's reason that SuspendAccount
// would refuse, so a form can say so before it asks to confirm.
func CheckSuspendReason(reason string) error {
	reason, err := plainText("a suspension's reason", reason, maxReason)
	if err == nil && reason == "" {
		err = invalid("suspending an account needs a reason")
	}
	return err
}

// ResumeAccount lifts a suspension, with a reason. An account that is not
// suspended is refused, so a mistaken resume records nothing.
func (h *Handler) ResumeAccount(ctx context.Context, id, reason string) error {
	reason, err := plainText("a resumption's reason", reason, maxReason)
	if err != nil {
		return err
	}
	if reason == "" {
		return invalid("resuming an account needs a reason")
	}
	return decideAgain(ctx, func() error {
		s, err := h.AccountState(ctx, id)
		if err != nil {
			return err
		}
		if !s.Suspended {
			return fmt.Errorf("%w: account %s is not suspended", ErrConflict, id)
		}
		ev := &domain.AccountResumed{AccountID: id, Reason: reason}
		_, err = h.append(ctx, domain.AccountStream(id), eventstore.Exact(uint64(s.Version)), uuid.New(), ev)
		return err
	})
}

// SetDataRequirement sets an account's standing data requirement: residency
// "tw" (upstreams in Taiwan only) and/or no retention. It replaces the one
// before; all zero lifts it.
func (h *Handler) SetDataRequirement(ctx context.Context, r domain.DataRequirementSet) error {
	r.Residency = strings.ToLower(strings.TrimSpace(r.Residency))
	if r.Residency != "" && r.Residency != "tw" {
		return invalid("residency must be \"tw\" (Taiwan) or empty, not %s", domain.Quote(r.Residency))
	}
	return decideAgain(ctx, func() error {
		s, err := h.AccountState(ctx, r.AccountID)
		if err != nil {
			return err
		}
		_, err = h.append(ctx, domain.AccountStream(r.AccountID), eventstore.Exact(uint64(s.Version)), uuid.New(), &r)
		return err
	})
}

// samePlan reports whether pc restates the terms the account s has.
func samePlan(pc domain.PlanChanged, s AccountState) bool {
	return pc.Plan == s.Plan && pc.RPM == s.RPM && pc.TPM == s.TPM &&
		pc.CreditLimit.Equal(s.CreditLimit) && pc.VolumeDiscount.Equal(s.VolumeDiscount)
}
