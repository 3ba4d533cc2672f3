package domain

import "github.com/shopspring/decimal"

// An account's key slots: every key it is issued takes one in the
// account's key-slot stream before the key is recorded, and gives it back
// when it is revoked. An account's live keys are its slots taken and not
// freed, counted from that one stream, whose version guards the count: two
// issues at once, from any processes, cannot both take the last slot.
const (
	TypeKeySlotTaken = "key.slot_taken"
	TypeKeySlotFreed = "key.slot_freed"
)

// KeySlotTaken counts a key among its account's live keys. A key's slot
// is taken again when a management key raises the limit of a key it made,
// the raise decided on the slots as they were. SpendLimit and SpendPeriod
// are the key's as the slot was taken, for a key not yet recorded (its
// issue under way); once it is, its own stream says what holds.
type KeySlotTaken struct {
	AccountID   string          `json:"account_id"`
	KeyID       string          `json:"key_id"`
	SpendLimit  decimal.Decimal `json:"spend_limit,omitzero"`
	SpendPeriod string          `json:"spend_period,omitempty"`
	Actor       Actor           `json:"actor"`
}

// KeySlotFreed gives back a key's slot: a revoked key's, or, saying so in
// Reason, that of a key whose issue never finished (never recorded).
type KeySlotFreed struct {
	AccountID string `json:"account_id"`
	KeyID     string `json:"key_id"`
	Reason    string `json:"reason,omitempty"`
	Actor     Actor  `json:"actor"`
}

func (KeySlotTaken) EventType() string  { return TypeKeySlotTaken }
func (KeySlotTaken) SchemaVersion() int { return 1 }
func (e *KeySlotTaken) ActedBy() *Actor { return &e.Actor }

func (KeySlotFreed) EventType() string  { return TypeKeySlotFreed }
func (KeySlotFreed) SchemaVersion() int { return 1 }
func (e *KeySlotFreed) ActedBy() *Actor { return &e.Actor }

// KeySlotsStream holds an account's key slots ("keyslots-": no other
// stream's name starts so).
func KeySlotsStream(acct string) string { return "keyslots-" + acct }

func init() {
	factories[TypeKeySlotTaken] = func() Event { return &KeySlotTaken{} }
	factories[TypeKeySlotFreed] = func() Event { return &KeySlotFreed{} }
}
