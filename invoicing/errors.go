package invoicing

import (
	"errors"

	"github.com/routefree/routefree/invoicing/twrules"
)

// Errors callers map to statuses (see httpapi): invalid input, a missing
// document, a decision refused by the current state.
var (
	ErrInvalid  = errors.New("invoicing: invalid")
	ErrNotFound = errors.New("invoicing: not found")
	ErrConflict = errors.New("invoicing: conflict")
	// ErrNoRange: no 字軌 range was assigned for the period of issue.
	ErrNoRange = errors.New("invoicing: no invoice number range assigned for the period")
	// ErrVoidWindowClosed: past the period's filing deadline an invoice can
	// no longer be voided; issue an allowance (折讓) instead.
	ErrVoidWindowClosed = errors.New("invoicing: the void window has closed (past the period's filing deadline); issue an allowance (折讓) instead")
	// ErrRangeExhausted is twrules' error: the period's numbers ran out.
	ErrRangeExhausted = twrules.ErrRangeExhausted
)
