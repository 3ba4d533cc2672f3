package commands

import (
	"strings"
	"sync"
	"unicode"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"golang.org/x/text/width"

	"github.com/routefree/routefree/domain"
)

// HeldReference is a payment as the account that holds its reference
// recorded it.
type HeldReference struct {
	AccountID string
	Reference string // as recorded
	Amount    decimal.Decimal
	Method    string
}

// PaymentReferences knows which account holds each payment's reference
// (card or bank transfer): a read model, fed every credits.topped_up of
// the history in order (Add), as the console's is.
type PaymentReferences struct {
	mu   sync.RWMutex
	held map[uuid.UUID][]HeldReference
}

// NewPaymentReferences returns an empty index.
func NewPaymentReferences() *PaymentReferences {
	return &PaymentReferences{held: map[uuid.UUID][]HeldReference{}}
}

// Add records a top-up; credit given (method adjustment) holds no
// payment's reference and is left out.
func (p *PaymentReferences) Add(t *domain.CreditsToppedUp) {
	if !isPayment(t.Method) {
		return
	}
	k := paymentReferenceID(t.Reference)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.held[k] {
		if h.AccountID == t.AccountID {
			return
		}
	}
	p.held[k] = append(p.held[k], HeldReference{AccountID: t.AccountID, Reference: t.Reference, Amount: t.Amount, Method: t.Method})
}

// Holders lists the accounts that hold ref, in the order they recorded it.
func (p *PaymentReferences) Holders(ref string) []HeldReference {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]HeldReference(nil), p.held[paymentReferenceID(ref)]...)
}

// isPayment reports whether a top-up of method m is a payment received,
// whose reference names one payment.
func isPayment(m string) bool {
	return m == domain.MethodBankTransfer || m == domain.MethodCard
}

// paymentReferenceID is the event ID of a payment recorded under ref: one
// for every account and every way of writing ref (sameReference), so that
// the store, which keeps an event ID once, keeps one payment under it.
func paymentReferenceID(ref string) uuid.UUID {
	return domain.EventID(domain.TypeCreditsToppedUp, "payment", foldReference(ref))
}

// foldReference writes ref so that two references are one payment
// (sameReference) exactly when they fold alike: in narrow width, each
// letter as the least of its case folds.
func foldReference(ref string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, width.Narrow.String(ref))
}
