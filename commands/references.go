package commands

import (
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// HeldReference is a payment as the account that holds its reference
// recorded it, as a conflict names it.
type HeldReference struct {
	AccountID string
	Reference string // as recorded
	Amount    decimal.Decimal
	Method    string
}

// heldAs is the payment p as a conflict names it.
func heldAs(p *domain.CreditsToppedUp) HeldReference {
	return HeldReference{AccountID: p.AccountID, Reference: p.Reference, Amount: p.Amount, Method: p.Method}
}

// PaymentReferences knows which accounts hold each payment's reference
// (card or bank transfer): a read model, fed every credits.topped_up of
// the history in order (Add), as the console's is. It keeps an account ID
// a reference, what a conflict needs to name; the payment itself is read
// from that account's top-ups when one is refused.
type PaymentReferences struct {
	mu sync.RWMutex
	// byID: the store reads events by ID, so a payment stored under its
	// reference's ID (PaymentID) is found there and kept out.
	byID bool
	held map[uuid.UUID]string // the first account to record the reference
	// Further accounts under one reference: only in histories from before
	// a payment's reference was one account's.
	more map[uuid.UUID][]string
}

// NewPaymentReferences returns an empty index.
func NewPaymentReferences() *PaymentReferences {
	return &PaymentReferences{held: map[uuid.UUID]string{}, more: map[uuid.UUID][]string{}}
}

// FoundByID keeps out of the index every payment stored under its
// reference's ID, for a store that reads events by ID (SQLite,
// PostgreSQL), where TopUp finds them: the index then holds only payments
// recorded before a reference was one account's, and stops growing. Call
// it before the first Add.
func (p *PaymentReferences) FoundByID() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byID = true
}

// Add records a top-up stored under event ID id; credit given (method
// adjustment) holds no payment's reference and is left out.
func (p *PaymentReferences) Add(id uuid.UUID, t *domain.CreditsToppedUp) {
	if !isPayment(t.Method) {
		return
	}
	k := PaymentID(t.Reference)
	p.mu.Lock()
	defer p.mu.Unlock()
	if id == k && p.byID {
		return
	}
	first, ok := p.held[k]
	switch {
	case !ok:
		p.held[k] = t.AccountID
	case first != t.AccountID && !slices.Contains(p.more[k], t.AccountID):
		p.more[k] = append(p.more[k], t.AccountID)
	}
}

// Holders lists the accounts that hold ref, in the order they recorded it.
func (p *PaymentReferences) Holders(ref string) []string {
	k := PaymentID(ref)
	p.mu.RLock()
	defer p.mu.RUnlock()
	first, ok := p.held[k]
	if !ok {
		return nil
	}
	return append([]string{first}, p.more[k]...)
}

// isPayment reports whether a top-up of method m is a payment received,
// whose reference names one payment.
func isPayment(m string) bool {
	return m == domain.MethodBankTransfer || m == domain.MethodCard
}

// PaymentID is the event ID of a payment (card or bank transfer) recorded
// under ref: one for every account and every way of writing ref
// (sameReference), so that the store, which keeps an event ID once, keeps
// one payment under it.
func PaymentID(ref string) uuid.UUID {
	return domain.EventID(domain.TypeCreditsToppedUp, "payment", foldReference(ref))
}

// foldReference writes ref so that two references are one payment
// (sameReference) exactly when they fold alike: as read
// (ReferenceAsRead), each letter as the least of its case folds.
func foldReference(ref string) string { return foldCase(ReferenceAsRead(ref)) }
