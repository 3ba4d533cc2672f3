package domain

// TypeDetailsChanged is the type of AccountDetailsChanged.
const TypeDetailsChanged = "account.details_changed"

// AccountDetails are what an account is invoiced and reached by: the
// buyer's name and 統一編號 ("" for none: B2C invoices), its address and
// contact.
type AccountDetails struct {
	Organisation, TaxID, Address, Contact string
}

// AccountDetailsChanged corrects an account's details (a typo, a new
// company name, the 統一編號 of a customer who now needs B2B invoices). It
// carries the whole set from now on, not a difference, so that the latest
// one alone says what holds. Invoices issued before keep the buyer they
// were issued to.
type AccountDetailsChanged struct {
	AccountID    string `json:"account_id"`
	Organisation string `json:"organisation"`
	TaxID        string `json:"tax_id"`
	Address      string `json:"address"`
	Contact      string `json:"contact"`
	Reason       string `json:"reason"`
	Actor        Actor  `json:"actor"`
}

func (AccountDetailsChanged) EventType() string  { return TypeDetailsChanged }
func (AccountDetailsChanged) SchemaVersion() int { return 1 }
func (e *AccountDetailsChanged) ActedBy() *Actor { return &e.Actor }

func init() { factories[TypeDetailsChanged] = func() Event { return &AccountDetailsChanged{} } }

// Details are the account's details after the change.
func (e *AccountDetailsChanged) Details() AccountDetails {
	return AccountDetails{Organisation: e.Organisation, TaxID: e.TaxID, Address: e.Address, Contact: e.Contact}
}

// Details are the details the account was opened with.
func (e *AccountOpened) Details() AccountDetails {
	return AccountDetails{Organisation: e.Organisation, TaxID: e.TaxID, Address: e.Address, Contact: e.Contact}
}
