package payments

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/payments/ecpay"
	"github.com/routefree/routefree/projections"
)

// Payment is one checkout as the customer and finance see it.
type Payment struct {
	TradeNo   string          `json:"trade_no"`
	AccountID string          `json:"account_id"`
	Amount    decimal.Decimal `json:"amount"`
	Method    string          `json:"method"`
	StartedAt time.Time       `json:"started_at"`
	// ATM: the virtual account ECPay assigned, to transfer to before
	// ExpireDate.
	BankCode   string `json:"bank_code,omitempty"`
	VAccount   string `json:"v_account,omitempty"`
	ExpireDate string `json:"expire_date,omitempty"`
	// Paid: ECPay notified the payment and the credit is recorded.
	Paid bool `json:"paid"`
	// PaidAt is when the credit was recorded, and TopUpEvent the ID of
	// its credits.topped_up event.
	PaidAt     time.Time `json:"paid_at,omitzero"`
	TopUpEvent string    `json:"topup_event,omitempty"`
	// Failure is ECPay's word that the payment did not go through (a
	// declined card, an ATM account it could not assign), as recorded in
	// the refused notification; FailedAt is when it came.
	Failure  string    `json:"failure,omitempty"`
	FailedAt time.Time `json:"failed_at,omitzero"`
	// OtherwiseAccount is the account on which finance recorded a
	// payment under the trade number by hand, and which holds it since
	// (StatusOtherwise); OtherwiseAt is when. Another customer's account:
	// kept out of what the customer reads.
	OtherwiseAccount string    `json:"-"`
	OtherwiseAt      time.Time `json:"otherwise_at,omitzero"`
}

// DefaultCardPayWindow is how long a checkout awaits ECPay's first
// notification: the card payment, or the ATM account. ECPay settles a
// card payment with the bank within 40 minutes of its being made (its
// QueryTradeInfo guide says to look no later than that); the rest of the
// hour is the customer's time on the cashier's page.
const DefaultCardPayWindow = time.Hour

// Where a checkout stands.
const (
	StatusPaid    = "paid"
	StatusPending = "pending"
	// StatusExpired: an ATM account past its deadline, which takes no
	// transfer any more, or a checkout that heard nothing from ECPay
	// within the card window (abandoned at the cashier, or sent again
	// with the back button); the customer starts another checkout.
	StatusExpired = "expired"
	// StatusFailed: ECPay notified that the payment did not go through
	// (RtnCode other than success); nothing was credited and the customer
	// starts another checkout.
	StatusFailed = "failed"
	// StatusOtherwise: finance recorded a payment under the trade number
	// by hand on another account, which holds the reference now (a
	// payment's reference is one account's); the trade takes no payment
	// on this account any more.
	StatusOtherwise = "otherwise"
)

// Status says where the checkout stands at now. cardWindow is how long a
// checkout without an ATM account awaits its payment; zero: for ever.
// Expired and failed are what the customer is told, not refusals: a
// payment notified later still credits, and reads paid.
func (p Payment) Status(now time.Time, cardWindow time.Duration) string {
	switch {
	case p.Paid:
		return StatusPaid
	case p.OtherwiseAccount != "":
		return StatusOtherwise
	case p.Failure != "":
		return StatusFailed
	case p.VAccount != "" && p.expired(now):
		return StatusExpired
	case p.VAccount == "" && cardWindow > 0 && now.Sub(p.StartedAt) > cardWindow:
		return StatusExpired
	}
	return StatusPending
}

// expired reports whether ExpireDate has passed: ECPay gives ATM accounts
// a date, open to its end, and other kinds a date and time, in Taipei. A
// deadline it cannot read is taken as not passed.
func (p Payment) expired(now time.Time) bool {
	if t, err := time.ParseInLocation("2006/01/02 15:04:05", p.ExpireDate, ecpay.Taipei); err == nil {
		return now.After(t)
	}
	if d, err := time.ParseInLocation("2006/01/02", p.ExpireDate, ecpay.Taipei); err == nil {
		return !now.Before(d.AddDate(0, 0, 1))
	}
	return false
}

// Refused is a signed notification that credited nothing.
type Refused struct {
	At       time.Time         `json:"at"`
	Endpoint string            `json:"endpoint"`
	TradeNo  string            `json:"trade_no"`
	Reason   string            `json:"reason"`
	Fields   map[string]string `json:"fields"`
}

// View is the payments read model, in memory: every checkout by trade
// number and account, and the refused notifications. Run it in the
// projections runner.
type View struct {
	mu        sync.RWMutex
	pos       eventstore.Position
	byTrade   map[string]*Payment
	byAccount map[string][]*Payment
	// versions is the last version of each account's CheckoutStream read.
	versions map[string]uint64
	refused  []Refused
}

var _ projections.Projection = (*View)(nil)

// NewView returns an empty view.
func NewView() *View {
	return &View{byTrade: map[string]*Payment{}, byAccount: map[string][]*Payment{}, versions: map[string]uint64{}}
}

// Name implements projections.Projection.
func (v *View) Name() string { return "payments" }

// Checkpoint implements projections.Projection: the view is rebuilt from
// the start on every run.
func (v *View) Checkpoint(context.Context) (eventstore.Position, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.pos, nil
}

// Apply implements projections.Projection.
func (v *View) Apply(_ context.Context, batch []projections.Event) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := range batch {
		e := &batch[i]
		if !v.pos.Less(e.Position) {
			continue // redelivered after a restart
		}
		switch b := e.Body.(type) {
		case *domain.PaymentCheckoutStarted:
			p := &Payment{TradeNo: b.TradeNo, AccountID: b.AccountID, Amount: b.Amount, Method: b.Method, StartedAt: e.OccurredAt}
			v.byTrade[b.TradeNo] = p
			v.byAccount[b.AccountID] = append(v.byAccount[b.AccountID], p)
			if e.Stream == domain.CheckoutStream(b.AccountID) {
				v.versions[b.AccountID] = e.Version
			}
		case *domain.PaymentAccountAssigned:
			// A paid trade keeps the account it was paid into, whatever
			// was recorded after; one paid before its account reached us
			// takes the first that comes.
			if p, ok := v.byTrade[b.TradeNo]; ok && (!p.Paid || p.VAccount == "") {
				p.BankCode, p.VAccount, p.ExpireDate = b.BankCode, b.VAccount, b.ExpireDate
				// An account assigned after ECPay said it could assign
				// none is its later word: the trade awaits the transfer.
				p.Failure, p.FailedAt = "", time.Time{}
			}
		case *domain.CreditsToppedUp:
			// A reference is one payment in either case and width, and
			// with or without characters that show nothing
			// (commands.sameReference): a trade number finance typed by
			// hand as rf…, full width, or before such characters were
			// refused with a zero-width space, is the trade's.
			p, ok := v.byTrade[strings.ToUpper(commands.ReferenceAsRead(b.Reference))]
			switch {
			case !ok:
			case p.AccountID == b.AccountID:
				p.Paid, p.PaidAt, p.TopUpEvent = true, e.OccurredAt, e.ID.String()
			case p.OtherwiseAccount == "" && (b.Method == domain.MethodCard || b.Method == domain.MethodBankTransfer):
				// A payment recorded by hand on another account holds
				// the trade number (a payment's reference is one
				// account's): ECPay's notification of it credits
				// nothing, and an ATM account it assigned takes no
				// transfer for this account. Credit given (an
				// adjustment) holds no reference.
				p.OtherwiseAccount, p.OtherwiseAt = b.AccountID, e.OccurredAt
			}
		case *domain.PaymentNotificationRefused:
			v.refused = append(v.refused, Refused{At: e.OccurredAt, Endpoint: b.Endpoint, TradeNo: b.TradeNo, Reason: b.Reason, Fields: b.Fields})
			if p, ok := v.byTrade[b.TradeNo]; ok && failed(b) {
				p.Failure, p.FailedAt = b.Reason, e.OccurredAt
			}
		default:
			if e.Err != nil && (e.Type == domain.TypePaymentCheckoutStarted || e.Type == domain.TypeCreditsToppedUp) {
				return e.Err
			}
		}
		v.pos = e.Position
	}
	return nil
}

// failed reports whether a refused notification is ECPay's word that its
// trade's payment did not go through. Such refusals are recorded only
// for a trade of ours, signed, for the amount asked (Service.match).
func failed(r *domain.PaymentNotificationRefused) bool {
	switch {
	case strings.HasPrefix(r.Reason, reasonNotPaid):
		return r.Fields["RtnCode"] != "1"
	case strings.HasPrefix(r.Reason, reasonNoATM):
		return r.Fields["RtnCode"] != "2"
	}
	return false
}

// All returns every account's checkouts, newest first.
func (v *View) All() []Payment {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]Payment, 0, len(v.byTrade))
	for _, ps := range v.byAccount {
		for _, p := range ps {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b Payment) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(b.TradeNo, a.TradeNo)
	})
	return out
}

// Payments returns an account's checkouts, newest first.
func (v *View) Payments(accountID string) []Payment {
	v.mu.RLock()
	defer v.mu.RUnlock()
	ps := v.byAccount[accountID]
	out := make([]Payment, len(ps))
	for i, p := range ps {
		out[len(ps)-1-i] = *p
	}
	return out
}

// checkoutVersion is the last version of an account's CheckoutStream that
// the view has read; ok is false when it has read none of it.
func (v *View) checkoutVersion(accountID string) (last uint64, ok bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	last, ok = v.versions[accountID]
	return last, ok
}

// Payment returns one checkout.
func (v *View) Payment(tradeNo string) (Payment, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	p, ok := v.byTrade[tradeNo]
	if !ok {
		return Payment{}, false
	}
	return *p, true
}

// Refused returns the refused notifications, newest first.
func (v *View) Refused() []Refused {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]Refused, len(v.refused))
	for i, r := range v.refused {
		out[len(out)-1-i] = r
	}
	return out
}
