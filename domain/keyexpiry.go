package domain

import "time"

// TypeKeyExpiryChanged is the type of KeyExpiryChanged.
const TypeKeyExpiryChanged = "key.expiry_changed"

// KeyExpiryChanged sets, moves or clears a key's expiry after its issue.
// It carries the expiry after the change, not a difference: the latest
// one alone says when the key stops working.
type KeyExpiryChanged struct {
	KeyID     string `json:"key_id"`
	AccountID string `json:"account_id"`
	// ExpiresAt ends the key at that instant (UTC, whole seconds); nil:
	// it never expires.
	ExpiresAt *time.Time `json:"expires_at"`
	Actor     Actor      `json:"actor"`
}

func (KeyExpiryChanged) EventType() string  { return TypeKeyExpiryChanged }
func (KeyExpiryChanged) SchemaVersion() int { return 1 }
func (e *KeyExpiryChanged) ActedBy() *Actor { return &e.Actor }

func init() { factories[TypeKeyExpiryChanged] = func() Event { return &KeyExpiryChanged{} } }
