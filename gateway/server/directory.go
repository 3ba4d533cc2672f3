package server

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/admission"
)

// Key is what the gateway needs to know of an API key, from the key
// projection.
type Key struct {
	ID          string
	AccountID   string
	Name        string
	Plan        domain.Plan
	Limits      admission.Limits
	Models      []string // empty: every model
	SpendLimit  decimal.Decimal
	SpendPeriod string
	Revoked     bool
	Disabled    bool // until enabled again
	Suspended   bool
	Management  bool      // a management key: it manages keys and calls no model
	ExpiresAt   time.Time // zero: never
}

// Expired reports whether the key has expired at now.
func (k *Key) Expired(now time.Time) bool { return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) }

// Scope is the key's scope and limits, as domain.KeyWithin compares them.
func (k *Key) Scope() domain.KeyIssued {
	out := domain.KeyIssued{KeyID: k.ID, AccountID: k.AccountID, Models: k.Models, SpendLimit: k.SpendLimit,
		SpendPeriod: k.SpendPeriod, Management: k.Management}
	if !k.ExpiresAt.IsZero() {
		at := k.ExpiresAt
		out.ExpiresAt = &at
	}
	return out
}

// Allows reports whether the key may use model.
func (k *Key) Allows(model string) bool {
	if len(k.Models) == 0 {
		return true
	}
	for _, m := range k.Models {
		if m == model {
			return true
		}
	}
	return false
}

// Account is the admission view of an account plus what pricing needs.
type Account struct {
	View           admission.AccountView
	VolumeDiscount decimal.Decimal // fraction off each request's cost
	MonthSpend     decimal.Decimal
	KeySpend       decimal.Decimal
	// Lifetime totals (credited minus used is the balance) and the key's
	// spending, for /credits and /key.
	TotalCredited, TotalUsed           decimal.Decimal
	KeyUsed, KeyDay, KeyWeek, KeyMonth decimal.Decimal
	// Requirement is the account's standing data requirement (residency,
	// no retention) that every request's upstream must meet; nil: none.
	Requirement *domain.DataRequirement
}

// Generation is one request's stats for GET /api/v1/generation.
type Generation struct {
	ID           string          `json:"id"`
	Model        string          `json:"model"`
	Provider     string          `json:"provider_name,omitempty"`
	Upstream     string          `json:"upstream_model,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	TokensPrompt int64           `json:"tokens_prompt"`
	TokensOut    int64           `json:"tokens_completion"`
	Cached       int64           `json:"tokens_cached"`
	Reasoning    int64           `json:"tokens_reasoning"`
	Estimated    bool            `json:"usage_estimated"`
	Cost         decimal.Decimal `json:"total_cost"`
	Currency     string          `json:"currency"`
	LatencyMs    int64           `json:"latency_ms"`
	TTFBMs       int64           `json:"time_to_first_byte_ms,omitempty"`
	FinishReason string          `json:"finish_reason,omitempty"`
	// NativeFinishReason is the provider's own reason where it differs
	// from FinishReason.
	NativeFinishReason string `json:"native_finish_reason,omitempty"`
	Outcome            string `json:"outcome"`
	Status             int    `json:"status"`
	Streamed           bool   `json:"streamed"`
	Attempts           int    `json:"attempts"`
	AppTitle           string `json:"app_title,omitempty"`
	AppReferer         string `json:"http_referer,omitempty"`
	AccountID          string `json:"-"`
	// Key is the scope of the key that made the request, as it is now;
	// nil when the key is unknown.
	Key *domain.KeyIssued `json:"-"`
}

// Directory is the gateway's window on the in-memory projections. Every
// call is a memory read: nothing on the hot path waits on a database.
type Directory interface {
	Key(hash string) (Key, bool)
	Account(accountID, keyID string, now time.Time) (Account, bool)
	// Admission is Account with only View, VolumeDiscount and Requirement
	// filled: what admitting and pricing a request read.
	Admission(accountID, keyID string, now time.Time) (Account, bool)
	Prices(at time.Time) (version int, prices map[string]domain.ModelPrice, ok bool)
	Generation(requestID string) (Generation, bool)
}
