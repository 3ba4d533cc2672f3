package console

import (
	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// withinCallersKey checks that a customer acts only on keys within the
// limits of the key they called with (domain.KeyWithin): staff are bounded
// by their role alone, a person signed in by single sign-on acts as the
// account's owner.
func (s *server) withinCallersKey(by auth.Principal, k domain.KeyIssued) error {
	if by.Staff || by.Subject != "" && by.KeyID == "" { // staff, or the account's owner signed in by SSO
		return nil
	}
	for _, own := range s.deps.Models.Keys.ByAccount(by.AccountID) {
		if own.KeyID == by.KeyID {
			return domain.KeyWithin(issuedOf(own), k)
		}
	}
	return errNotFound("key") // the caller's key is gone: nothing to act with
}

// issuedOf is a projected key's scope and limits as its event carried them.
func issuedOf(k projections.KeyInfo) domain.KeyIssued {
	return domain.KeyIssued{KeyID: k.KeyID, AccountID: k.AccountID, Models: k.Models, SpendLimit: k.SpendLimit,
		SpendPeriod: k.SpendPeriod, Management: k.Management}
}
