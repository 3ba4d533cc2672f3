package domain

// Key disabling: a disabled key is refused like a revoked one, but can be
// enabled again (OpenRouter's PATCH /keys/{hash} with disabled: true or
// false). Revoking stays final.
const (
	TypeKeyDisabled = "key.disabled"
	TypeKeyEnabled  = "key.enabled"
)

// KeyDisabled stops a key until it is enabled again.
type KeyDisabled struct {
	KeyID     string `json:"key_id"`
	AccountID string `json:"account_id"`
	Actor     Actor  `json:"actor"`
}

// KeyEnabled lets a disabled key work again.
type KeyEnabled struct {
	KeyID     string `json:"key_id"`
	AccountID string `json:"account_id"`
	Actor     Actor  `json:"actor"`
}

func (KeyDisabled) EventType() string  { return TypeKeyDisabled }
func (KeyDisabled) SchemaVersion() int { return 1 }
func (e *KeyDisabled) ActedBy() *Actor { return &e.Actor }

func (KeyEnabled) EventType() string  { return TypeKeyEnabled }
func (KeyEnabled) SchemaVersion() int { return 1 }
func (e *KeyEnabled) ActedBy() *Actor { return &e.Actor }

func init() {
	factories[TypeKeyDisabled] = func() Event { return &KeyDisabled{} }
	factories[TypeKeyEnabled] = func() Event { return &KeyEnabled{} }
}
