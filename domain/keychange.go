package domain

import "github.com/shopspring/decimal"

// TypeKeyChanged is the type of KeyChanged.
const TypeKeyChanged = "key.changed"

// KeyChanged renames a key or sets its spending limit. It carries the key's
// name, limit and period after the change, not a difference, so that the
// latest one alone says what holds. A zero limit lifts it. The models and
// the management scope a key was issued with never change: a key that
// needs other ones is a new key.
type KeyChanged struct {
	KeyID       string          `json:"key_id"`
	AccountID   string          `json:"account_id"`
	Name        string          `json:"name,omitempty"`
	SpendLimit  decimal.Decimal `json:"spend_limit"`
	SpendPeriod string          `json:"spend_period,omitempty"`
	Actor       Actor           `json:"actor"`
}

func (KeyChanged) EventType() string  { return TypeKeyChanged }
func (KeyChanged) SchemaVersion() int { return 1 }
func (e *KeyChanged) ActedBy() *Actor { return &e.Actor }

func init() { factories[TypeKeyChanged] = func() Event { return &KeyChanged{} } }

// Changed returns the key as it stands after c.
func (c KeyChanged) Changed(k KeyIssued) KeyIssued {
	k.Name, k.SpendLimit, k.SpendPeriod = c.Name, c.SpendLimit, c.SpendPeriod
	return k
}
