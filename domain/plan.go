package domain

import "errors"

// ErrCustomTerms is the refusal of custom rate limits or a volume discount
// on a plan other than Enterprise, whose terms are the plan's own.
var ErrCustomTerms = errors.New("custom RPM, TPM and volume discount are for enterprise accounts")

// CheckCustomTerms refuses a plan change that gives an account other than
// an Enterprise one custom RPM, TPM or a volume discount.
func (pc PlanChanged) CheckCustomTerms() error {
	if pc.Plan != PlanEnterprise && (pc.RPM != 0 || pc.TPM != 0 || !pc.VolumeDiscount.IsZero()) {
		return ErrCustomTerms
	}
	return nil
}
