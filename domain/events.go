// Package domain holds RouteFree's facts (events), money and the rules that
// apply to them. It does no I/O and imports nothing else of the project.
package domain

import (
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Event is one fact of the catalog. Every event names its type and the
// schema version of its JSON body.
type Event interface {
	EventType() string
	SchemaVersion() int
}

// Event type names, as stored. Changing a meaning means a new name or version.
const (
	TypeAccountOpened      = "account.opened"
	TypePlanChanged        = "account.plan_changed"
	TypeAccountSuspended   = "account.suspended"
	TypeAccountResumed     = "account.resumed"
	TypeDataRequirementSet = "account.data_requirement_set"
	TypeKeyIssued          = "key.issued"
	TypeKeyRevoked         = "key.revoked"
	TypeCreditsToppedUp    = "credits.topped_up"
	TypeCreditsAdjusted    = "credits.adjusted"
	TypePriceListPublished = "prices.published"
	TypeRequestCompleted   = "request.completed"
	TypeRequestFailed      = "request.failed"
	TypeInvoiceIssued      = "invoice.issued"
	TypeInvoiceVoided      = "invoice.voided"
	TypeAllowanceIssued    = "invoice.allowance_issued"
	TypeAllowanceVoided    = "invoice.allowance_voided"
	TypeQuoteIssued        = "quote.issued"
	TypeQuoteAccepted      = "quote.accepted"
	TypeContractIssued     = "contract.issued"
	TypeInvoiceRangeSet    = "invoice.range_assigned"
	TypeStaffTokenIssued   = "staff.token_issued"
	TypeStaffTokenRevoked  = "staff.token_revoked"
)

// Plans. Starter accounts are prepaid; Business and Enterprise are billed
// monthly and may run to their credit limit.
type Plan string

const (
	PlanStarter    Plan = "starter"
	PlanBusiness   Plan = "business"
	PlanEnterprise Plan = "enterprise"
)

// Valid reports whether p is a known plan.
func (p Plan) Valid() bool {
	return p == PlanStarter || p == PlanBusiness || p == PlanEnterprise
}

// Postpaid reports whether the plan is billed monthly (may use a credit limit).
func (p Plan) Postpaid() bool { return p == PlanBusiness || p == PlanEnterprise }

// AccountOpened opens a customer account.
type AccountOpened struct {
	AccountID    string          `json:"account_id"`
	Organisation string          `json:"organisation"`
	TaxID        string          `json:"tax_id,omitempty"` // 統一編號, checked by ValidTaxID
	Address      string          `json:"address,omitempty"`
	Contact      string          `json:"contact,omitempty"`
	Plan         Plan            `json:"plan"`
	CreditLimit  decimal.Decimal `json:"credit_limit"`
	Actor        Actor           `json:"actor"` // who caused it (since v2)
}

// PlanChanged moves an account to another plan; RPM/TPM override the
// plan's defaults when non-zero (Enterprise custom limits).
type PlanChanged struct {
	AccountID      string          `json:"account_id"`
	Plan           Plan            `json:"plan"`
	RPM            int64           `json:"rpm,omitempty"`
	TPM            int64           `json:"tpm,omitempty"`
	CreditLimit    decimal.Decimal `json:"credit_limit"`
	VolumeDiscount decimal.Decimal `json:"volume_discount"` // fraction, 0.1 = 10 % off
	Actor          Actor           `json:"actor"`           // who caused it (since v2)
}

// AccountSuspended stops every key of an account.
type AccountSuspended struct {
	AccountID string `json:"account_id"`
	// Reason is required of new suspensions; one recorded before it was
	// may have none.
	Reason string `json:"reason,omitempty"`
	Actor  Actor  `json:"actor"` // who caused it (since v2)
}

// AccountResumed lifts a suspension: the account's keys work again.
type AccountResumed struct {
	AccountID string `json:"account_id"`
	Reason    string `json:"reason"`
	Actor     Actor  `json:"actor"`
}

// DataRequirementSet is an account's standing data requirement (資料常駐),
// which every request of its keys must meet: its upstream in Taiwan
// (Residency "tw") and/or keeping no data after the request. Each event
// replaces the previous setting; all zero lifts it.
type DataRequirementSet struct {
	AccountID   string `json:"account_id"`
	Residency   string `json:"residency,omitempty"`
	NoRetention bool   `json:"no_retention,omitempty"`
	Actor       Actor  `json:"actor"`
}

// KeyIssued records an API key: only its SHA-256 hash and a display prefix.
type KeyIssued struct {
	KeyID       string          `json:"key_id"`
	AccountID   string          `json:"account_id"`
	Hash        string          `json:"hash"`   // hex SHA-256 of the full key
	Prefix      string          `json:"prefix"` // e.g. "sk-rf-ab12…"
	Name        string          `json:"name,omitempty"`
	Models      []string        `json:"models,omitempty"` // empty: every model
	SpendLimit  decimal.Decimal `json:"spend_limit"`      // zero: none
	SpendPeriod string          `json:"spend_period,omitempty"`
	// Management marks a key that manages the account's keys (see
	// KeyWithin) and cannot call models. Absent in older events: an
	// ordinary key.
	Management bool `json:"management,omitempty"`
	// ExpiresAt ends the key at that instant (UTC); nil: it never expires.
	// Absent in older events.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Actor     Actor      `json:"actor"` // who caused it (since v2)
}

// KeyRevoked ends a key.
type KeyRevoked struct {
	KeyID     string `json:"key_id"`
	AccountID string `json:"account_id"`
	Actor     Actor  `json:"actor"` // who caused it (since v2)
}

// Top-up methods.
const (
	MethodCard         = "credit-card"
	MethodBankTransfer = "bank-transfer"
	MethodAdjustment   = "adjustment"
)

// CreditsToppedUp adds prepaid credit; Reference is unique per account.
// A payment's Reference is the bank's or the card processor's; that of
// credit given (MethodAdjustment) is staff's own, not shown to customers.
type CreditsToppedUp struct {
	AccountID string          `json:"account_id"`
	Amount    decimal.Decimal `json:"amount"`
	Method    string          `json:"method"`
	Reference string          `json:"reference"`
	Actor     Actor           `json:"actor"` // who caused it (since v2)
}

// CreditsAdjusted corrects a balance by hand (positive or negative).
// Reason is staff's own note; Description is what the customer is shown
// (none, in adjustments recorded before it existed or without one: a
// neutral label). Reverses names the event ID of an adjustment of the
// same account that this one undoes (a mistake reversed): its amount is
// that one's negated, and invoicing puts back what that one took.
type CreditsAdjusted struct {
	AccountID   string          `json:"account_id"`
	Amount      decimal.Decimal `json:"amount"`
	Reason      string          `json:"reason"`
	Description string          `json:"description,omitempty"`
	Reverses    uuid.UUID       `json:"reverses,omitzero"`
	Actor       Actor           `json:"actor"` // who caused it (since v2)
}

// PriceListPublished publishes a new version of the NTD price list.
type PriceListPublished struct {
	Version     int                   `json:"version"`
	EffectiveAt time.Time             `json:"effective_at"`
	Prices      map[string]ModelPrice `json:"prices"`
	// Replace is what the publisher asked for: true, the list is exactly
	// Prices; false, Prices is the list in force at EffectiveAt amended with
	// the models given. Either way Prices is the whole list (v1: replace).
	Replace bool `json:"replace"`
	// Set names the models the publisher priced (the file's), as against
	// those taken from the list in force; a replacing list set them all.
	// Absent from lists published before it was recorded.
	Set []string `json:"set,omitempty"`
	// Carries is the version of a scheduled list that this one publishes
	// again, at the same effective time, with a change published since
	// that takes effect before it (0: none).
	Carries int   `json:"carries,omitempty"`
	Actor   Actor `json:"actor"` // who caused it (since v2)
}

// Outcomes of a request: each is a charge rule (see README).
const (
	OutcomeCompleted          = "completed"
	OutcomeUpstreamFailed     = "upstream_failed"       // before the first byte: no charge
	OutcomeUpstreamBrokeMid   = "upstream_broke_stream" // charge what was delivered
	OutcomeClientDisconnected = "client_disconnected"   // charge what the upstream produced
	OutcomeTimeout            = "timeout"
	OutcomeRejected           = "rejected" // 400/401/402/403/404/429: no charge
	// OutcomeShutdown: the gateway's shutdown grace ran out before the
	// request ended. Mid-stream: charge what was delivered; before the
	// first byte: no charge.
	OutcomeShutdown = "shutdown"
	// OutcomeGatewayFailedMid: the gateway itself failed (a defect, met as
	// a panic) after content had reached the client: charge what was
	// delivered, as a stream the upstream broke.
	OutcomeGatewayFailedMid = "gateway_failed_stream"
	// OutcomeKeyStoppedMid: the request's key was revoked or disabled, or
	// its account suspended, while it streamed: the stream was ended
	// there. Charge what was delivered.
	OutcomeKeyStoppedMid = "key_stopped_stream"
)

// Usage is what a request consumed. Reasoning tokens are part of Output;
// cached tokens are part of Input.
type Usage struct {
	Input     int64 `json:"tokens_in"`
	Output    int64 `json:"tokens_out"`
	Cached    int64 `json:"tokens_cached"`
	Reasoning int64 `json:"tokens_reasoning"`
	// CacheWrite is the part of Input written to the provider's prompt
	// cache, billed at the cache-write price.
	CacheWrite int64 `json:"tokens_cache_write,omitempty"`
	// CacheWrite1h is the part of CacheWrite kept in the cache for an
	// hour, billed at the one-hour cache-write price.
	CacheWrite1h int64 `json:"tokens_cache_write_1h,omitempty"`
	Estimated    bool  `json:"estimated,omitempty"` // counted by the gateway, not reported upstream
	// Refused says why the upstream's own report was not believed (see
	// Usage.Impossible): the counts above are then the gateway's.
	Refused string `json:"upstream_usage_refused,omitempty"`
}

// Total is input plus output tokens.
func (u Usage) Total() int64 { return u.Input + u.Output }

// Reasons an upstream's usage report is refused.
const (
	UsageNegative       = "negative_count"
	UsageUnreadable     = "unreadable_count" // a count not written as an integer that fits: a fraction, an exponent, a string, a number past int64
	UsagePartsTooLarge  = "part_above_whole" // cached or cache writes above input, reasoning above output
	UsageInputTooLarge  = "input_above_limit"
	UsageOutputTooLarge = "output_above_limit"
)

// Impossible says why usage cannot be what a request consumed, "" when it
// can: a report already refused (Refused, as for a count not written as an
// integer), a negative count, a part larger than its whole, more
// input than the request and the model's context could hold (maxInput) or
// more output than the request allowed (maxOutput). An upstream that
// reports such counts misreports, and billing them would charge a
// customer a negative or an unbounded amount.
func (u Usage) Impossible(maxInput, maxOutput int64) string {
	switch {
	case u.Refused != "":
		return u.Refused
	case min(u.Input, u.Output, u.Cached, u.Reasoning, u.CacheWrite, u.CacheWrite1h) < 0:
		return UsageNegative
	case u.Cached > u.Input || u.CacheWrite > u.Input-u.Cached || u.CacheWrite1h > u.CacheWrite || u.Reasoning > u.Output:
		return UsagePartsTooLarge
	case u.Input > maxInput:
		return UsageInputTooLarge
	case u.Output > maxOutput:
		return UsageOutputTooLarge
	}
	return ""
}

// RequestCompleted is one billed (or free) request. It never holds content.
type RequestCompleted struct {
	RequestID    string          `json:"request_id"`
	KeyID        string          `json:"key_id"`
	AccountID    string          `json:"account_id"`
	Model        string          `json:"model"`
	Provider     string          `json:"provider"`
	Upstream     string          `json:"upstream"`
	Usage        Usage           `json:"usage"`
	Cost         decimal.Decimal `json:"cost"`
	PriceList    int             `json:"price_list"`
	StartedAt    time.Time       `json:"started_at"`
	LatencyMs    int64           `json:"latency_ms"`
	TTFBMs       int64           `json:"ttfb_ms,omitempty"`
	Stream       bool            `json:"stream"`
	Outcome      string          `json:"outcome"`
	FinishReason string          `json:"finish_reason,omitempty"`
	// NativeFinishReason is the provider's own reason (Anthropic's
	// max_tokens, Gemini's STOP), left out when it is FinishReason itself
	// (an OpenAI-shaped upstream's).
	NativeFinishReason string `json:"native_finish_reason,omitempty"`
	Attempts           int    `json:"attempts"`
	AppReferer         string `json:"app_referer,omitempty"`
	AppTitle           string `json:"app_title,omitempty"`
	// Region is where the upstream that served processed the request.
	Region string `json:"region,omitempty"`
	// Requirement is the data requirement routing was held to, if any.
	Requirement *DataRequirement `json:"requirement,omitempty"`
}

// DataRequirement is what a request's upstream had to meet: data residency
// (資料常駐) or no retention, from the request's provider object or the
// account's setting.
type DataRequirement struct {
	Residency   string `json:"residency,omitempty"`    // "tw": an upstream in Taiwan
	NoRetention bool   `json:"no_retention,omitempty"` // the provider keeps nothing after the request
	NoTraining  bool   `json:"no_training,omitempty"`  // the provider does not train on it
	Source      string `json:"source,omitempty"`       // request, account, or both: "request+account"
}

// IsZero reports whether nothing is required.
func (r *DataRequirement) IsZero() bool {
	return r == nil || (r.Residency == "" && !r.NoRetention && !r.NoTraining)
}

// RequestFailed is a request that ended without a completion.
type RequestFailed struct {
	RequestID string    `json:"request_id"`
	KeyID     string    `json:"key_id,omitempty"`
	AccountID string    `json:"account_id,omitempty"`
	Model     string    `json:"model,omitempty"`
	Provider  string    `json:"provider,omitempty"`
	Status    int       `json:"status"`
	Reason    string    `json:"reason"`
	Outcome   string    `json:"outcome"`
	Attempts  int       `json:"attempts"`
	StartedAt time.Time `json:"started_at"`
	LatencyMs int64     `json:"latency_ms"`
	Stream    bool      `json:"stream"`
	// Region and Requirement as on RequestCompleted.
	Region      string           `json:"region,omitempty"`
	Requirement *DataRequirement `json:"requirement,omitempty"`
}

// InvoiceLine is one line of an invoice.
type InvoiceLine struct {
	Description string          `json:"description"`
	Quantity    decimal.Decimal `json:"quantity"`
	Unit        string          `json:"unit,omitempty"`
	UnitPrice   decimal.Decimal `json:"unit_price"`
	Amount      decimal.Decimal `json:"amount"`
}

// InvoiceIssued is a unified invoice (統一發票), whole NTD.
type InvoiceIssued struct {
	Number    string `json:"number"` // e.g. AB12345678
	Period    string `json:"period"` // e.g. 2026-11 (first month of the two-month period)
	AccountID string `json:"account_id"`
	Month     string `json:"month,omitempty"`     // billing month for monthly invoices
	TopUpRef  string `json:"topup_ref,omitempty"` // top-up reference for prepaid invoices
	// PaidMonth is, on a top-up invoice, the Taipei month (YYYY-MM) of the
	// payment TopUpRef names: the month the invoice counts in, though it may
	// be issued later (docs/invoicing-ledger.md). Empty on monthly invoices
	// and on top-up invoices issued before it was recorded.
	PaidMonth    string        `json:"paid_month,omitempty"`
	Kind         string        `json:"kind"`                   // b2b or b2c
	BuyerName    string        `json:"buyer_name,omitempty"`   // b2b
	BuyerTaxID   string        `json:"buyer_tax_id,omitempty"` // b2b
	RandomCode   string        `json:"random_code"`
	Carrier      string        `json:"carrier,omitempty"`
	DonationCode string        `json:"donation_code,omitempty"`
	Lines        []InvoiceLine `json:"lines"`
	Sales        int64         `json:"sales"`
	Tax          int64         `json:"tax"`
	Total        int64         `json:"total"`
	IssuedAt     time.Time     `json:"issued_at"`
	Actor        Actor         `json:"actor"` // who caused it (since v2)
	// Seq numbers an account's invoices of one billing month (0 the first,
	// then supplementary invoices for late usage or re-issues after a void),
	// or its top-up invoices.
	Seq int `json:"seq,omitempty"`
	// Covers is the full-precision amount the invoice bills: usage cost
	// (monthly) or paid top-ups. Total is its whole-NTD charge under the
	// rule of docs/invoicing-ledger.md. Zero on invoices issued before it
	// was recorded.
	Covers decimal.Decimal `json:"covers"`
	// Usage is the usage a monthly invoice bills, by model: no request's
	// cost is on two live invoices.
	Usage []UsageBilled `json:"usage,omitempty"`
	// TopUps are the references of the paid top-ups a top-up invoice bills:
	// TopUpRef and earlier ones carried to it (fractions of NT$1, or those
	// of a voided invoice).
	TopUps []string `json:"topups,omitempty"`
	// Replaces are the voided invoices (numbers) whose amount this one
	// bills again: a re-issue after a void, not a supplement. Empty on
	// other invoices and on those issued before it was recorded.
	Replaces []string `json:"replaces,omitempty"`
	// Less is what this monthly invoice bills less than its month's
	// cumulative rounding rule gives: the voids' Less that it carries (a
	// re-issue's). Zero on others.
	Less int64 `json:"less,omitempty"`
	// Seller is the issuer as printed and filed, fixed at issue so that a
	// later change of configuration does not change the document. Nil on
	// invoices issued before it was recorded: they render with the
	// configured seller (docs/invoicing.md).
	Seller *InvoiceSeller `json:"seller,omitempty"`
	// UploadBy is when the F0401 is late at the platform: midnight Taipei
	// after 7 (B2B) or 2 (B2C) days counted from the day after issue. Zero
	// on invoices issued before it was recorded (derive it from IssuedAt).
	UploadBy time.Time `json:"upload_by,omitzero"`
}

// BillsPayments reports a top-up invoice, which bills payments rather
// than a month's usage.
func (e *InvoiceIssued) BillsPayments() bool { return e.TopUpRef != "" || len(e.TopUps) > 0 }

// UsageBilled is one model's usage billed by a monthly invoice.
type UsageBilled struct {
	Model     string          `json:"model"`
	Requests  int64           `json:"requests"`
	TokensIn  int64           `json:"tokens_in"`
	TokensOut int64           `json:"tokens_out"`
	Cost      decimal.Decimal `json:"cost"`
}

// InvoiceSeller is the seller's identity on an invoice, a quote or a
// contract.
type InvoiceSeller struct {
	Name        string `json:"name"`
	TaxID       string `json:"tax_id"`
	Address     string `json:"address,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Email       string `json:"email,omitempty"`
	Responsible string `json:"responsible,omitempty"` // 負責人
	// Quotes and contracts also print the contact (聯絡人) and the account
	// to pay to; invoices do not record them.
	Contact     string `json:"contact,omitempty"`
	BankAccount string `json:"bank_account,omitempty"`
}

// InvoiceVoided voids (作廢) an invoice within its period's window, or,
// past it, on the tax office's approval (Special).
type InvoiceVoided struct {
	Number string `json:"number"`
	Reason string `json:"reason"`
	Actor  Actor  `json:"actor"` // who caused it (since v2)
	// Special is set on a special void (專案作廢), recorded once the tax
	// office approved it. A void in every other way, so a release that
	// does not know the field folds the same amounts.
	Special *SpecialVoid `json:"special,omitempty"`
	// UploadBy is when its F0501 is late at the platform (zero on voids
	// recorded before it was kept: derive it from the occurred-at time).
	UploadBy time.Time `json:"upload_by,omitzero"`
	// Less is what the re-issue of a monthly invoice's usage takes off
	// (whole NTD, tax included): the buyer is given it back as by an
	// allowance, which a buyer without a 統一編號 takes no allowance for
	// before the period is filed (docs/invoicing-ledger.md). Recorded with
	// the void, so that the re-issue bills less whenever it comes. A
	// release that does not know the field re-issues the whole amount.
	Less int64 `json:"less,omitempty"`
}

// SpecialVoid is the tax office's approval of a void past the period's
// filing deadline (專案作廢).
type SpecialVoid struct {
	Approval   string `json:"approval"`    // the approval's reference (核准文號)
	ApprovedOn string `json:"approved_on"` // the day of the approval, YYYY-MM-DD in Taipei
}

// AllowanceIssued is a 折讓 against an invoice.
type AllowanceIssued struct {
	Number        string `json:"number"` // allowance number
	InvoiceNumber string `json:"invoice_number"`
	Sales         int64  `json:"sales"`
	Tax           int64  `json:"tax"`
	Reason        string `json:"reason"`
	Actor         Actor  `json:"actor"` // who caused it (since v2)
	// UploadBy is when its G0401 is late at the platform (zero on
	// allowances recorded before it was kept).
	UploadBy time.Time `json:"upload_by,omitzero"`
	// Once is the key the command was given to issue it once (the CLI's
	// --once, the API's Idempotency-Key): the same key again is answered
	// with this allowance rather than issuing another. Empty without one.
	Once string `json:"once,omitempty"`
}

// AllowanceVoided voids (作廢) an allowance; the invoice bills its amount
// again, and may be voided once all its allowances are.
type AllowanceVoided struct {
	Number        string `json:"number"` // allowance number
	InvoiceNumber string `json:"invoice_number"`
	Reason        string `json:"reason"`
	Actor         Actor  `json:"actor"` // who caused it
	// UploadBy is when its G0501 is late at the platform.
	UploadBy time.Time `json:"upload_by,omitzero"`
}

// SetUploadBy records a document's upload deadline (see UploadBy).
func (e *InvoiceVoided) SetUploadBy(t time.Time) { e.UploadBy = t }

// SetUploadBy records a document's upload deadline (see UploadBy).
func (e *AllowanceIssued) SetUploadBy(t time.Time) { e.UploadBy = t }

// SetUploadBy records a document's upload deadline (see UploadBy).
func (e *AllowanceVoided) SetUploadBy(t time.Time) { e.UploadBy = t }

// QuoteItem is one line of a quotation.
type QuoteItem struct {
	Name      string          `json:"name"`
	Spec      string          `json:"spec,omitempty"`
	Quantity  decimal.Decimal `json:"quantity"`
	Unit      string          `json:"unit"`
	UnitPrice decimal.Decimal `json:"unit_price"`
}

// QuoteIssued is a government-format quotation (報價單).
type QuoteIssued struct {
	QuoteID      string      `json:"quote_id"`
	Agency       string      `json:"agency"`
	AgencyTaxID  string      `json:"agency_tax_id,omitempty"`
	Contact      string      `json:"contact,omitempty"`
	Items        []QuoteItem `json:"items"`
	ValidDays    int         `json:"valid_days"`
	Remarks      string      `json:"remarks,omitempty"`
	Subtotal     int64       `json:"subtotal"`
	Tax          int64       `json:"tax"`
	Total        int64       `json:"total"`
	IssuedAt     time.Time   `json:"issued_at"`
	AgencyAddr   string      `json:"agency_address,omitempty"`
	ContractPlan string      `json:"contract_plan,omitempty"`
	Actor        Actor       `json:"actor"` // who caused it (since v2)
	// Seller is the issuer as printed, fixed at issue so that a later
	// change of configuration does not change the quote. Nil on quotes
	// issued before it was recorded: they render with the configured seller.
	Seller *InvoiceSeller `json:"seller,omitempty"`
	// Replaces is the quote this one was issued in place of, withdrawn in
	// the same step (QuoteWithdrawn.ReplacedBy names this one).
	Replaces string `json:"replaces,omitempty"`
	// ReplaceReason is why it replaces that quote, finance's own words,
	// printed on both quotes (the withdrawal records it too).
	ReplaceReason string `json:"replace_reason,omitempty"`
}

// QuoteAccepted records the agency's acceptance of a quote.
type QuoteAccepted struct {
	QuoteID string `json:"quote_id"`
	Actor   Actor  `json:"actor"` // who caused it (since v2)
}

// ContractIssued turns an accepted quote into a service contract (契約書).
type ContractIssued struct {
	ContractID  string    `json:"contract_id"`
	QuoteID     string    `json:"quote_id"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Plan        Plan      `json:"plan"`
	Actor       Actor     `json:"actor"` // who caused it (since v2)
	// Seller is the issuer as printed on the contract, fixed when it is
	// signed; nil on contracts issued before it was recorded.
	Seller *InvoiceSeller `json:"seller,omitempty"`
}

func (AccountOpened) EventType() string      { return TypeAccountOpened }
func (PlanChanged) EventType() string        { return TypePlanChanged }
func (AccountSuspended) EventType() string   { return TypeAccountSuspended }
func (AccountResumed) EventType() string     { return TypeAccountResumed }
func (DataRequirementSet) EventType() string { return TypeDataRequirementSet }
func (KeyIssued) EventType() string          { return TypeKeyIssued }
func (KeyRevoked) EventType() string         { return TypeKeyRevoked }
func (CreditsToppedUp) EventType() string    { return TypeCreditsToppedUp }
func (CreditsAdjusted) EventType() string    { return TypeCreditsAdjusted }
func (PriceListPublished) EventType() string { return TypePriceListPublished }
func (RequestCompleted) EventType() string   { return TypeRequestCompleted }
func (RequestFailed) EventType() string      { return TypeRequestFailed }
func (InvoiceIssued) EventType() string      { return TypeInvoiceIssued }
func (InvoiceVoided) EventType() string      { return TypeInvoiceVoided }
func (AllowanceIssued) EventType() string    { return TypeAllowanceIssued }
func (AllowanceVoided) EventType() string    { return TypeAllowanceVoided }
func (QuoteIssued) EventType() string        { return TypeQuoteIssued }
func (QuoteAccepted) EventType() string      { return TypeQuoteAccepted }
func (ContractIssued) EventType() string     { return TypeContractIssued }

func (AccountOpened) SchemaVersion() int      { return 2 } // v1: no actor
func (PlanChanged) SchemaVersion() int        { return 2 } // v1: no actor
func (AccountSuspended) SchemaVersion() int   { return 2 } // v1: no actor
func (AccountResumed) SchemaVersion() int     { return 1 }
func (DataRequirementSet) SchemaVersion() int { return 1 }
func (KeyIssued) SchemaVersion() int          { return 2 } // v1: no actor
func (KeyRevoked) SchemaVersion() int         { return 2 } // v1: no actor
func (CreditsToppedUp) SchemaVersion() int    { return 2 } // v1: no actor
// SchemaVersion of an adjustment: v1 had no actor; v3 is a reversal, which
// invoicing reads otherwise than credit given, so that a build knowing only
// v2 refuses the history rather than print other figures. A plain
// adjustment stays v2.
func (e CreditsAdjusted) SchemaVersion() int {
	if e.Reverses != uuid.Nil {
		return 3
	}
	return 2
}

// LatestSchemaVersion is the newest version of an adjustment this build
// reads (see SchemaVersion).
func (CreditsAdjusted) LatestSchemaVersion() int { return 3 }
func (PriceListPublished) SchemaVersion() int    { return 2 } // v1: no actor
func (RequestCompleted) SchemaVersion() int      { return 2 } // v1: see upcast.go
func (RequestFailed) SchemaVersion() int         { return 1 }
func (InvoiceIssued) SchemaVersion() int         { return 2 } // v1: no actor
func (InvoiceVoided) SchemaVersion() int         { return 2 } // v1: no actor
func (AllowanceIssued) SchemaVersion() int       { return 2 } // v1: no actor
func (AllowanceVoided) SchemaVersion() int       { return 1 }
func (QuoteIssued) SchemaVersion() int           { return 2 } // v1: no actor
func (QuoteAccepted) SchemaVersion() int         { return 2 } // v1: no actor
func (ContractIssued) SchemaVersion() int        { return 2 } // v1: no actor

// InvoiceRangeAssigned records the 字軌 and number range the tax authority
// assigned for a two-month period. Invoices of the period are appended to the
// same stream, so numbers are allocated by optimistic concurrency.
type InvoiceRangeAssigned struct {
	Period string `json:"period"` // e.g. 2026-11 (first month)
	Prefix string `json:"prefix"` // two letters
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Actor  Actor  `json:"actor"` // who caused it (since v2)
}

// StaffTokenIssued records a staff token (its hash only).
type StaffTokenIssued struct {
	TokenID string `json:"token_id"`
	Role    string `json:"role"` // admin, finance, auditor
	Name    string `json:"name,omitempty"`
	Hash    string `json:"hash"`
	Actor   Actor  `json:"actor"` // who caused it (since v2)
}

// StaffTokenRevoked ends a staff token.
type StaffTokenRevoked struct {
	TokenID string `json:"token_id"`
	Actor   Actor  `json:"actor"` // who caused it (since v2)
}

func (InvoiceRangeAssigned) EventType() string  { return TypeInvoiceRangeSet }
func (StaffTokenIssued) EventType() string      { return TypeStaffTokenIssued }
func (StaffTokenRevoked) EventType() string     { return TypeStaffTokenRevoked }
func (InvoiceRangeAssigned) SchemaVersion() int { return 2 } // v1: no actor
func (StaffTokenIssued) SchemaVersion() int     { return 2 } // v1: no actor
func (StaffTokenRevoked) SchemaVersion() int    { return 2 } // v1: no actor

// StaffStream holds a staff token's events.
func StaffStream(id string) string { return "staff-" + id }

// StaffAdminsStream holds the revocations of admin tokens, one stream for
// all, so that keeping the last admin token is one decision guarded by its
// version (token IDs start "stf_": no token's stream has this name).
const StaffAdminsStream = "staff-admins"

// Stream names. One stream per entity; usage facts go to the account's usage
// stream and append without an expected version.
func AccountStream(id string) string          { return "account-" + id }
func KeyStream(id string) string              { return "key-" + id }
func UsageStream(acct string) string          { return "usage-" + acct }
func TopUpStream(acct string) string          { return "topups-" + acct }
func InvoiceRangeStream(period string) string { return "invoice-range-" + period }
func InvoiceStream(number string) string      { return "invoice-" + number }
func QuoteStream(id string) string            { return "quote-" + id }

// PriceListStream holds every published price list, in order.
const PriceListStream = "pricelist"
