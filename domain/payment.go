package domain

import "github.com/shopspring/decimal"

// Payment event types: a customer's checkout with the payment provider, an
// ATM virtual account the provider assigned to it, and a provider
// notification that was refused (listed for finance, never guessed). The
// credit itself is a CreditsToppedUp whose Reference is the trade number.
const (
	TypePaymentCheckoutStarted    = "payment.checkout_started"
	TypePaymentAccountAssigned    = "payment.atm_account_assigned"
	TypePaymentNotificationRefuse = "payment.notification_refused"
)

// PaymentCheckoutStarted records a trade number issued to the provider for
// an account: the amount asked and the method (MethodCard or
// MethodBankTransfer). A notification for any other trade number, or
// another amount, is refused.
type PaymentCheckoutStarted struct {
	AccountID string          `json:"account_id"`
	Provider  string          `json:"provider"` // e.g. "ecpay"
	TradeNo   string          `json:"trade_no"`
	Amount    decimal.Decimal `json:"amount"`
	Method    string          `json:"method"`
	Actor     Actor           `json:"actor"`
}

// PaymentAccountAssigned records the ATM virtual account the provider gave a
// checkout: the customer transfers to it before ExpireDate (the provider's
// text, Taipei time).
type PaymentAccountAssigned struct {
	AccountID  string `json:"account_id"`
	Provider   string `json:"provider"`
	TradeNo    string `json:"trade_no"`
	BankCode   string `json:"bank_code"`
	VAccount   string `json:"v_account"`
	ExpireDate string `json:"expire_date"`
	Actor      Actor  `json:"actor"`
}

// PaymentNotificationRefused records a provider notification that credited
// nothing, with the reason, so finance can follow it up. Fields holds the
// notification's non-secret fields (no signature).
type PaymentNotificationRefused struct {
	Provider string            `json:"provider"`
	Endpoint string            `json:"endpoint"` // "return" or "payment-info"
	TradeNo  string            `json:"trade_no,omitempty"`
	Reason   string            `json:"reason"`
	Fields   map[string]string `json:"fields,omitempty"`
	Actor    Actor             `json:"actor"`
}

func (PaymentCheckoutStarted) EventType() string      { return TypePaymentCheckoutStarted }
func (PaymentCheckoutStarted) SchemaVersion() int     { return 1 }
func (PaymentAccountAssigned) EventType() string      { return TypePaymentAccountAssigned }
func (PaymentAccountAssigned) SchemaVersion() int     { return 1 }
func (PaymentNotificationRefused) EventType() string  { return TypePaymentNotificationRefuse }
func (PaymentNotificationRefused) SchemaVersion() int { return 1 }

func (e *PaymentCheckoutStarted) ActedBy() *Actor     { return &e.Actor }
func (e *PaymentAccountAssigned) ActedBy() *Actor     { return &e.Actor }
func (e *PaymentNotificationRefused) ActedBy() *Actor { return &e.Actor }

// CheckoutStream holds an account's checkouts, in the order they started:
// a checkout that must not start beside a pending one is appended at the
// version its check read, so that of two started at once one is refused.
func CheckoutStream(accountID string) string { return "checkouts-" + accountID }

// PaymentStream holds what the provider said of one trade number (its ATM
// account). Histories written before CheckoutStream hold the trade's
// checkout here too; PaymentsRefusedStream holds the notifications that
// matched none.
func PaymentStream(tradeNo string) string { return "payment-" + tradeNo }

// PaymentsRefusedStream is where refused notifications are recorded.
const PaymentsRefusedStream = "payments-refused"

func init() {
	factories[TypePaymentCheckoutStarted] = func() Event { return &PaymentCheckoutStarted{} }
	factories[TypePaymentAccountAssigned] = func() Event { return &PaymentAccountAssigned{} }
	factories[TypePaymentNotificationRefuse] = func() Event { return &PaymentNotificationRefused{} }
}
