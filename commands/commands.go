// Package commands is RouteFree's write side: each command checks its input,
// reads what its decision depends on, and appends events with the expected
// version that makes the decision safe under concurrency. The CLI, the admin
// API and the gateway all go through it.
package commands

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// ErrInvalid marks bad input; ErrConflict a decision that lost to another.
var (
	ErrInvalid  = errors.New("invalid")
	ErrConflict = errors.New("conflict")
	ErrNotFound = errors.New("not found")
)

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Handler runs commands against a store.
type Handler struct {
	Store eventstore.Store
	Now   func() time.Time
	// MaxTopUp bounds a single top-up or adjustment; zero means
	// DefaultMaxTopUp.
	MaxTopUp decimal.Decimal
	// StaffTokens lists the staff tokens (a read model's); nil reads them
	// from the store's history.
	StaffTokens func(ctx context.Context) ([]StaffToken, error)
	// PaymentReferences tells which account holds a payment's reference
	// (a read model's); nil reads it from the store's history.
	PaymentReferences *PaymentReferences
	// MaxKeysPerAccount bounds an account's live (not revoked) keys; zero
	// means DefaultMaxKeysPerAccount.
	MaxKeysPerAccount int
	// MaxNewKeysPerHour bounds the keys an account's own keys and people
	// make in any hour; zero means DefaultMaxNewKeysPerHour.
	MaxNewKeysPerHour int
	// LiveKeys lists an account's keys that are not revoked (a read
	// model's): once, for accounts whose keys were issued before their
	// count was kept, and to tell key slots whose keys were recorded from
	// those whose issue stopped. Nil reads them from the store's history
	// and the keys' own streams.
	LiveKeys func(account string) []string
	// KeySlots keeps accounts' key-slot streams folded between issues (a
	// KeySlotCache); nil: one of the handler's own, made on first use
	// (SlotCache).
	KeySlots *KeySlotCache
	// LookAlikeAccounts lists the opened accounts whose IDs equal an ID
	// ignoring case but differ from it (a read model's), for OpenAccount
	// to find those opened before their opening's event ID was their
	// ID's (accountcase.go). Nil reads them from the store's history.
	LookAlikeAccounts func(id string) []string
}

// DefaultMaxTopUp is the largest single top-up or adjustment unless
// configured otherwise: NT$1,000,000.
var DefaultMaxTopUp = decimal.NewFromInt(1_000_000)

// New returns a handler with the wall clock.
func New(s eventstore.Store) *Handler { return &Handler{Store: s, Now: time.Now} }

// WithActor returns a context under which every command event records a as
// its actor. Each edge sets it: the console and admin API from the signed-in
// staff token or key, the CLI from the operating-system user, serve's own
// work as the system.
func WithActor(ctx context.Context, a domain.Actor) context.Context { return domain.WithActor(ctx, a) }

func (h *Handler) maxTopUp() decimal.Decimal {
	if h.MaxTopUp.IsPositive() {
		return h.MaxTopUp
	}
	return DefaultMaxTopUp
}

// Event builds the stored form of a domain event.
func Event(id uuid.UUID, at time.Time, e domain.Event) (eventstore.EventData, error) {
	b, err := domain.Encode(e)
	if err != nil {
		return eventstore.EventData{}, err
	}
	return eventstore.EventData{ID: id, Type: e.EventType(), SchemaVersion: e.SchemaVersion(), OccurredAt: at.UTC(), Data: b}, nil
}

// append records e, stamped with the actor of ctx.
func (h *Handler) append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, id uuid.UUID, e domain.Event) (eventstore.AppendResult, error) {
	domain.Stamp(ctx, e)
	d, err := Event(id, h.Now(), e)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := h.Store.Append(ctx, stream, exp, d)
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return res, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return res, err
}

// readStream returns a stream's events decoded, and its last version (-1: none).
func (h *Handler) readStream(ctx context.Context, stream string) ([]domain.Event, int64, error) {
	var out []domain.Event
	last := int64(-1)
	err := h.scanStream(ctx, stream, func(e eventstore.RecordedEvent) (bool, error) {
		d, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return false, err
		}
		out = append(out, d)
		last = int64(e.Version)
		return true, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, last, nil
}

// scanStream gives f a stream's events in order, a thousand read at a
// time, until f says no more; a stream not yet written is empty.
func (h *Handler) scanStream(ctx context.Context, stream string, f func(eventstore.RecordedEvent) (more bool, err error)) error {
	return h.scanStreamFrom(ctx, stream, 0, f)
}

// scanStreamFrom is scanStream from version from on.
func (h *Handler) scanStreamFrom(ctx context.Context, stream string, from uint64, f func(eventstore.RecordedEvent) (more bool, err error)) error {
	for {
		evs, err := h.Store.ReadStream(ctx, stream, from, 1000)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range evs {
			if more, err := f(e); err != nil || !more {
				return err
			}
		}
		if len(evs) < 1000 {
			return nil
		}
		from = evs[len(evs)-1].Version + 1
	}
}

func expectAfter(last int64) eventstore.ExpectedVersion {
	if last < 0 {
		return eventstore.NoStream()
	}
	return eventstore.Exact(uint64(last))
}

// accountIDPattern is what an account ID may be: it names the account's
// streams and is a segment of the API's and the console's URLs, so it
// holds no separator, space or escape. Generated IDs (acct_ and twelve
// letters or digits) fit it.
var accountIDPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`)

// ValidAccountID reports whether id may name a new account.
func ValidAccountID(id string) bool { return accountIDPattern.MatchString(id) }

// OpenAccount opens an account. The ID is chosen by the caller (or generated).
func (h *Handler) OpenAccount(ctx context.Context, a domain.AccountOpened) (string, error) {
	a.Organisation = strings.TrimSpace(a.Organisation)
	a.TaxID = domain.TaxIDAsTyped(a.TaxID)
	var problems []string
	if a.AccountID != "" && !ValidAccountID(a.AccountID) {
		problems = append(problems, fmt.Sprintf("account ID %s: use 1 to 64 letters, digits, '_', '-' or '.', starting with a letter, digit or '_'", domain.Quote(a.AccountID)))
	}
	problems = append(problems, detailsProblems(a.Details())...)
	if a.Plan == "" {
		a.Plan = domain.PlanStarter
	}
	if !a.Plan.Valid() {
		problems = append(problems, fmt.Sprintf("unknown plan %s (starter, business, enterprise)", domain.Quote(string(a.Plan))))
	}
	if a.CreditLimit.IsNegative() || (!a.Plan.Postpaid() && !a.CreditLimit.IsZero()) {
		problems = append(problems, "credit limit must be zero for prepaid plans and not negative")
	}
	if p := limitProblem("a credit limit", a.CreditLimit); p != "" {
		problems = append(problems, p)
	}
	if len(problems) > 0 {
		return "", invalid("%s", strings.Join(problems, "; "))
	}
	if a.AccountID == "" {
		// Twelve random letters and digits: no account holds them.
		a.AccountID = "acct_" + randomID(12)
	} else if err := h.refuseTakenAccountID(ctx, a.AccountID); err != nil {
		return a.AccountID, err
	}
	id := accountOpenedID(a.AccountID)
	res, err := h.append(ctx, domain.AccountStream(a.AccountID), eventstore.NoStream(), id, &a)
	if errors.Is(err, ErrConflict) {
		return a.AccountID, accountExists(a.AccountID, a.AccountID)
	}
	if err == nil && slices.Contains(res.Existing, id) {
		// Opened meanwhile under this ID in some case: the store kept that.
		return a.AccountID, h.openedFirst(ctx, a.AccountID)
	}
	return a.AccountID, err
}

// Account returns the current state of an account by folding its stream.
func (h *Handler) Account(ctx context.Context, id string) (*domain.AccountOpened, int64, error) {
	evs, last, err := h.readStream(ctx, domain.AccountStream(id))
	if err != nil {
		return nil, 0, err
	}
	if len(evs) == 0 {
		return nil, -1, fmt.Errorf("%w: account %s", ErrNotFound, domain.Excerpt(id))
	}
	acct := *evs[0].(*domain.AccountOpened)
	for _, e := range evs[1:] {
		if pc, ok := e.(*domain.PlanChanged); ok {
			acct.Plan = pc.Plan
			acct.CreditLimit = pc.CreditLimit
		}
	}
	return &acct, last, nil
}

// ChangePlan moves an account to a plan, with custom limits for Enterprise.
// pc is the whole of the account's terms, as of whatever version the
// account has now: a change decided on what the account was uses UpdatePlan.
func (h *Handler) ChangePlan(ctx context.Context, pc domain.PlanChanged) error {
	if err := checkPlan(pc); err != nil {
		return err
	}
	_, last, err := h.Account(ctx, pc.AccountID)
	if err != nil {
		return err
	}
	_, err = h.append(ctx, domain.AccountStream(pc.AccountID), eventstore.Exact(uint64(last)), uuid.New(), &pc)
	return err
}

// maxDiscountPlaces is the finest volume discount: 0.0001, a hundredth of
// a percent.
const maxDiscountPlaces = 4

// checkPlan refuses terms that no account may have.
func checkPlan(pc domain.PlanChanged) error {
	if !pc.Plan.Valid() {
		return invalid("unknown plan %s", domain.Quote(string(pc.Plan)))
	}
	if pc.RPM < 0 || pc.TPM < 0 || pc.CreditLimit.IsNegative() || pc.VolumeDiscount.IsNegative() || pc.VolumeDiscount.GreaterThanOrEqual(decimal.NewFromInt(1)) {
		return invalid("limits must not be negative and the discount must be below 1")
	}
	// The discount multiplies every request's cost: each decimal place of
	// it is one more of every cost, balance and usage event.
	if !pc.VolumeDiscount.Equal(pc.VolumeDiscount.Truncate(maxDiscountPlaces)) {
		return invalid("a volume discount has at most four decimal places (%s given; 0.1 is 10 %% off)", pc.VolumeDiscount)
	}
	if err := checkLimit("a credit limit", pc.CreditLimit); err != nil {
		return err
	}
	if !pc.Plan.Postpaid() && !pc.CreditLimit.IsZero() {
		return invalid("prepaid plans have no credit limit")
	}
	return nil
}

// KeyPrefix starts every RouteFree API key.
const KeyPrefix = "sk-rf-"

// HashKey is how keys are stored and looked up: hex SHA-256.
func HashKey(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

// IssueKey creates a key for an account and returns it in clear, once. Its
// name follows the rules of a change (keyName); a key issued without one is
// named after its ID.
func (h *Handler) IssueKey(ctx context.Context, k domain.KeyIssued) (keyID, secret string, err error) {
	return h.issueKey(ctx, k, NewKeyID())
}

// NewKeyID is a new key's ID, for IssueKeyAs when the ID is chosen before
// the key is issued.
func NewKeyID() string { return "key_" + randomID(12) }

// IssueKeyAs issues a key whose ID the caller fixes, so that callers
// racing to issue the same key (serves bootstrapping one store together)
// issue it once: the others get ErrConflict.
func (h *Handler) IssueKeyAs(ctx context.Context, keyID string, k domain.KeyIssued) (secret string, err error) {
	_, secret, err = h.issueKey(ctx, k, keyID)
	return secret, err
}

func (h *Handler) issueKey(ctx context.Context, k domain.KeyIssued, id string) (keyID, secret string, err error) {
	named := strings.TrimSpace(k.Name) != ""
	if named {
		if k.Name, err = keyName(k.Name); err != nil {
			return "", "", err
		}
	}
	if _, _, err := h.Account(ctx, k.AccountID); err != nil {
		return "", "", err
	}
	if k.SpendPeriod, err = spendTerms(k.SpendLimit, k.SpendPeriod); err != nil {
		return "", "", err
	}
	if !k.SpendLimit.IsPositive() {
		k.SpendPeriod = "" // no limit, nothing to reset: a limit set later gets the default
	}
	if k.ExpiresAt != nil {
		at := k.ExpiresAt.UTC().Truncate(time.Second)
		if !at.After(h.Now()) {
			return "", "", fmt.Errorf("%w: a key's expiry must be in the future (%s given)", ErrInvalid, at.Format(time.RFC3339))
		}
		k.ExpiresAt = &at
	}
	secret = KeyPrefix + randomID(40)
	k.KeyID = id
	if !named {
		k.Name = k.KeyID // a key is always named, so that it can be told apart and changed
	}
	k.Hash = HashKey(secret)
	k.Prefix = secret[:len(KeyPrefix)+6] + "…"
	if err := h.takeKeySlot(ctx, k); err != nil {
		return "", "", err
	}
	_, err = h.append(ctx, domain.KeyStream(k.KeyID), eventstore.NoStream(), uuid.New(), &k)
	if err != nil {
		return "", "", err
	}
	return k.KeyID, secret, nil
}

// RevokeKey ends a key; revoking twice is harmless.
func (h *Handler) RevokeKey(ctx context.Context, keyID string) error {
	return decideAgain(ctx, func() error { return h.revokeKey(ctx, keyID) })
}

func (h *Handler) revokeKey(ctx context.Context, keyID string) error {
	evs, last, err := h.readStream(ctx, domain.KeyStream(keyID))
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		return fmt.Errorf("%w: key %s", ErrNotFound, domain.Excerpt(keyID))
	}
	ki := evs[0].(*domain.KeyIssued)
	for _, e := range evs[1:] {
		if _, ok := e.(*domain.KeyRevoked); ok {
			// Revoked already; its slot is given back again (once), in
			// case a revocation stopped between the two.
			return h.freeKeySlot(ctx, ki.AccountID, keyID)
		}
	}
	_, err = h.append(ctx, domain.KeyStream(keyID), eventstore.Exact(uint64(last)), domain.EventID(domain.TypeKeyRevoked, keyID), &domain.KeyRevoked{KeyID: keyID, AccountID: ki.AccountID})
	if err != nil {
		return err
	}
	return h.freeKeySlot(ctx, ki.AccountID, keyID)
}

// TopUp records prepaid credit, idempotent per (account, reference): the same
// reference with the same amount and method succeeds again without a second
// credit; with another amount or method it is a conflict. A payment's
// reference (card or bank transfer) is one account's: recorded on another
// account, it is a conflict naming that account.
func (h *Handler) TopUp(ctx context.Context, t domain.CreditsToppedUp) (duplicate bool, err error) {
	t, err = h.checkTopUp(ctx, t)
	if err != nil {
		return false, err
	}
	stream := domain.TopUpStream(t.AccountID)
	// A payment's event ID is its reference's, whatever the account
	// (PaymentID): the store keeps an ID once, so of payments
	// recorded at once under one reference on several accounts, by any
	// number of processes, one is stored and each other learns it here.
	// Credit given keeps an ID of its account and reference.
	id := domain.EventID(domain.TypeCreditsToppedUp, t.AccountID, t.Reference)
	if isPayment(t.Method) {
		id = PaymentID(t.Reference)
	}
	// Which accounts hold a payment's reference is read from the whole
	// history, which takes seconds when it is long: once, here, before the
	// account's version is read and outside the tries below, so that the
	// append follows that read closely and a try lost to another writer
	// does not read it again. A payment recorded meanwhile under the
	// reference, on any account, has the event ID this one has, which the
	// store keeps once: the append reports it (taken, below).
	holders := &referenceHolders{ref: t.Reference}
	if dup, err := h.decideTopUp(ctx, t, holders); err != nil || dup {
		return dup, err
	}
	// Top-ups to one account take turns in this process, so that they do
	// not race for the stream's next version; another process (a second
	// gateway on the same database) can still land first, and then the
	// decision is made again after a short, randomized wait.
	defer streamLocks.lock(stream)()
	taken := false
	for attempt := 0; attempt < topUpAttempts; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return false, err
			}
		}
		dup, last, err := h.recordedTopUp(ctx, t)
		if err != nil || dup {
			return dup, err
		}
		if err := h.heldElsewhere(ctx, t, holders); err != nil {
			return false, err
		}
		res, err := h.append(ctx, stream, expectAfter(last), id, &t)
		if errors.Is(err, ErrConflict) {
			continue // another top-up landed first: decide again
		}
		if err == nil && slices.Contains(res.Existing, id) {
			// Another account's payment under the reference was stored
			// first: decide again, which names it (read by its ID, or,
			// where the store cannot, in the history read anew).
			taken = true
			holders.forget()
			continue
		}
		return false, err
	}
	if taken {
		return false, fmt.Errorf("%w: reference %q is already recorded on another account: a payment credits one account", ErrConflict, t.Reference)
	}
	return false, fmt.Errorf("%w: top-up stream busy: other top-ups to account %s kept landing first; nothing was recorded, retry the top-up", ErrConflict, t.AccountID)
}

// CheckTopUp says what TopUp would answer without recording anything: the
// same refusals, and whether the reference is already recorded with the
// same amount (a duplicate that would not be credited twice). The console
// asks for confirmation only of a top-up that would be recorded.
func (h *Handler) CheckTopUp(ctx context.Context, t domain.CreditsToppedUp) (duplicate bool, err error) {
	if t, err = h.checkTopUp(ctx, t); err != nil {
		return false, err
	}
	return h.decideTopUp(ctx, t, &referenceHolders{ref: t.Reference})
}

// decideTopUp says whether t is a duplicate of a top-up recorded, or is
// refused: recorded otherwise, or a payment whose reference another
// account holds.
func (h *Handler) decideTopUp(ctx context.Context, t domain.CreditsToppedUp, holders *referenceHolders) (duplicate bool, err error) {
	dup, _, err := h.recordedTopUp(ctx, t)
	if err != nil || dup {
		return dup, err
	}
	return false, h.heldElsewhere(ctx, t, holders)
}

func (h *Handler) checkTopUp(ctx context.Context, t domain.CreditsToppedUp) (domain.CreditsToppedUp, error) {
	switch t.Method {
	case domain.MethodCard, domain.MethodBankTransfer, domain.MethodAdjustment:
	default:
		return t, invalid("method must be %s, %s or %s", domain.MethodCard, domain.MethodBankTransfer, domain.MethodAdjustment)
	}
	var err error
	// A reference typed in full width (ＴＸ－００１, from a Chinese input
	// method) is the same transfer as TX-001, as the console reads it.
	if t.Reference, err = plainText("a top-up's reference", width.Narrow.String(t.Reference), maxReference); err != nil {
		return t, err
	}
	if t.Reference == "" {
		return t, invalid("a top-up needs its external reference")
	}
	// A character that shows nothing (pasted with a reference from a web
	// page or a spreadsheet) would make one transfer two references.
	if i := strings.IndexFunc(t.Reference, domain.Invisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(t.Reference[i:])
		return t, invalid("a top-up's reference must not contain invisible characters (U+%04X)", r)
	}
	if err := h.checkAmount("a top-up", t.Amount); err != nil {
		return t, err
	}
	if !t.Amount.IsPositive() {
		return t, invalid("a top-up must be positive (NT$%s given); take credit back with an adjustment", domain.Excerpt(t.Amount.String()))
	}
	if !t.Amount.Equal(t.Amount.Truncate(0)) {
		return t, invalid("a top-up is a whole number of New Taiwan dollars (NT$%s given): its invoice is issued in whole dollars", domain.Excerpt(t.Amount.String()))
	}
	if _, _, err := h.Account(ctx, t.AccountID); err != nil {
		return t, err
	}
	return t, nil
}

// recordedTopUp reads the account's top-ups: a top-up of the same
// reference, amount and method is a duplicate; the same reference with
// another amount, or another method (a payment, invoiced when paid, is
// not credit given), is a conflict.
func (h *Handler) recordedTopUp(ctx context.Context, t domain.CreditsToppedUp) (duplicate bool, last int64, err error) {
	evs, last, err := h.readStream(ctx, domain.TopUpStream(t.AccountID))
	if err != nil {
		return false, last, err
	}
	for _, e := range evs {
		if prev, ok := e.(*domain.CreditsToppedUp); ok && sameReference(prev.Reference, t.Reference) {
			if prev.Amount.Equal(t.Amount) && prev.Method == t.Method {
				return true, last, nil
			}
			return false, last, fmt.Errorf("%w: reference %q was already recorded%s with amount %s as %s", ErrConflict, t.Reference, recordedAs(prev.Reference, t.Reference), prev.Amount, prev.Method)
		}
	}
	return false, last, nil
}

// heldElsewhere refuses a payment whose reference another account holds,
// naming it: found by the event ID that a payment recorded under the
// reference has (where the store reads events by ID), else in the read
// model or the store's history (holders), which also hold the payments
// recorded with an ID of their account's.
func (h *Handler) heldElsewhere(ctx context.Context, t domain.CreditsToppedUp, holders *referenceHolders) error {
	if !isPayment(t.Method) {
		return nil
	}
	held, found, err := h.paymentByID(ctx, PaymentID(t.Reference))
	if err != nil {
		return err
	}
	if !found || held.AccountID == t.AccountID {
		accounts, err := holders.get(ctx, h)
		if err != nil {
			return err
		}
		found = false
		for _, account := range accounts {
			if account == t.AccountID {
				continue
			}
			if held, found, err = h.paymentOn(ctx, account, t.Reference); err != nil {
				return err
			}
			if found {
				break
			}
		}
	}
	if !found || held.AccountID == t.AccountID {
		return nil
	}
	return fmt.Errorf("%w: reference %q is already recorded on account %s%s with amount %s as %s: a payment credits one account",
		ErrConflict, t.Reference, held.AccountID, recordedAs(held.Reference, t.Reference), held.Amount, held.Method)
}

// paymentOn reads the payment an account recorded under ref.
func (h *Handler) paymentOn(ctx context.Context, account, ref string) (HeldReference, bool, error) {
	evs, _, err := h.readStream(ctx, domain.TopUpStream(account))
	if err != nil {
		return HeldReference{}, false, err
	}
	for _, e := range evs {
		if p, ok := e.(*domain.CreditsToppedUp); ok && isPayment(p.Method) && sameReference(p.Reference, ref) {
			return heldAs(p), true, nil
		}
	}
	return HeldReference{}, false, nil
}

// paymentByID reads the payment stored under id, where the store reads
// events by ID.
func (h *Handler) paymentByID(ctx context.Context, id uuid.UUID) (HeldReference, bool, error) {
	r, ok := h.Store.(eventstore.EventReader)
	if !ok {
		return HeldReference{}, false, nil
	}
	e, err := r.ReadEvent(ctx, id)
	if errors.Is(err, eventstore.ErrEventNotFound) {
		return HeldReference{}, false, nil
	}
	if err != nil {
		return HeldReference{}, false, err
	}
	b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return HeldReference{}, false, err
	}
	p, ok := b.(*domain.CreditsToppedUp)
	if !ok {
		return HeldReference{}, false, fmt.Errorf("event %s under a payment's reference is a %s", id, e.Type)
	}
	return heldAs(p), true, nil
}

// referenceHolders lists the accounts holding a payment's reference: from
// the read model when the handler has one (asked each time: it is in
// memory), else from the store's whole history, read at most once (until
// forget).
type referenceHolders struct {
	ref      string
	read     bool
	accounts []string
}

func (r *referenceHolders) get(ctx context.Context, h *Handler) ([]string, error) {
	if r.read {
		return r.accounts, nil
	}
	if h.PaymentReferences != nil {
		return h.PaymentReferences.Holders(r.ref), nil
	}
	refs := NewPaymentReferences()
	err := h.walkHistory(ctx, func(e *eventstore.RecordedEvent, d domain.Event) {
		if p := d.(*domain.CreditsToppedUp); sameReference(p.Reference, r.ref) {
			refs.Add(e.ID, p)
		}
	}, domain.TypeCreditsToppedUp)
	if err != nil {
		return nil, err
	}
	r.accounts, r.read = refs.Holders(r.ref), true
	return r.accounts, nil
}

// forget makes the next get read the history again.
func (r *referenceHolders) forget() { r.read, r.accounts = false, nil }

// sameReference reports whether two top-up references name one payment: a
// bank statement's reference is typed by hand, in either case and, from a
// Chinese input method, in full width (ＴＸ－００１, tx-001 and TX-001 are
// one transfer). References recorded before are compared the same way,
// without the characters that show nothing which they could then hold.
func sameReference(a, b string) bool {
	return strings.EqualFold(ReferenceAsRead(a), ReferenceAsRead(b))
}

// ReferenceAsRead is ref in narrow width and composed form (NFC: É one
// letter, as a decomposed E and accent copied from elsewhere reads the
// same), with plain spaces and hyphens for those that read as them (a
// no-break space, a Unicode hyphen or minus sign, copied from a bank
// statement's PDF or a web page), without the characters that show
// nothing (domain.Invisible): the reference as finance reads it, which
// the payments view matches to a trade number too.
func ReferenceAsRead(ref string) string {
	ref = norm.NFC.String(width.Narrow.String(ref))
	if strings.IndexFunc(ref, func(r rune) bool { return r >= utf8.RuneSelf || domain.Invisible(r) }) < 0 {
		return ref
	}
	return strings.Map(func(r rune) rune {
		if domain.Invisible(r) {
			return -1
		}
		return domain.PlainSpaceOrHyphen(r)
	}, ref)
}

// recordedAs names a recorded reference written otherwise than ref.
func recordedAs(recorded, ref string) string {
	if recorded == ref {
		return ""
	}
	return fmt.Sprintf(" (as %q)", recorded)
}

// checkAmount refuses an amount of credit beyond the single-entry bound.
func (h *Handler) checkAmount(what string, amount decimal.Decimal) error {
	if max := h.maxTopUp(); amount.Abs().GreaterThan(max) {
		return invalid("%s is at most NT$%s (NT$%s given); split it, or raise --max-topup", what, max, domain.Excerpt(amount.String()))
	}
	return nil
}

// Adjust corrects a balance by hand, up or down, with a reason; the actor
// of ctx is recorded with it.
func (h *Handler) Adjust(ctx context.Context, a domain.CreditsAdjusted) error {
	return h.AdjustOnce(ctx, a, "")
}

// AdjustOnce records an adjustment once per key: the same key again (a
// form sent twice) records nothing more. An empty key records every call.
// The key sent again with another adjustment (another amount, reason or
// description) is an *OnceConflict: answered as done, the adjustment meant
// would be lost.
func (h *Handler) AdjustOnce(ctx context.Context, a domain.CreditsAdjusted, key string) error {
	_, _, err := h.AdjustOnceRecorded(ctx, a, key)
	return err
}

// AdjustOnceRecorded is AdjustOnce, also giving the adjustment's event ID
// (what a reversal names, domain.CreditsAdjusted.Reverses) and saying
// whether this call is the one that recorded the adjustment: of calls made
// at once under one key (two operators running one ticket's command), only
// one is, and each other must not say it recorded what the first did.
//
// A reversal is decided on the account's top-up stream: another
// adjustment or payment landing there between its read and its append (a
// second operator, serve recording a card payment) makes it decide again
// on the newer history, where it is recorded or found already reversed.
func (h *Handler) AdjustOnceRecorded(ctx context.Context, a domain.CreditsAdjusted, key string) (id uuid.UUID, recorded bool, err error) {
	err = decideAgain(ctx, func() error {
		var derr error
		id, recorded, derr = h.adjustOnce(ctx, a, key)
		return derr
	})
	return id, recorded, err
}

// adjustOnce is one decision of AdjustOnceRecorded.
func (h *Handler) adjustOnce(ctx context.Context, a domain.CreditsAdjusted, key string) (id uuid.UUID, recorded bool, err error) {
	key = strings.TrimSpace(key)
	if key != "" {
		id = domain.EventID(domain.TypeCreditsAdjusted, a.AccountID, key)
	}
	a, exp, err := h.checkAdjust(ctx, a, id)
	if err != nil {
		return id, false, err
	}
	if key == "" {
		id = uuid.New()
		_, err = h.append(ctx, domain.TopUpStream(a.AccountID), exp, id, &a)
		return id, err == nil, err
	}
	prev, found, err := h.adjustedUnder(ctx, a.AccountID, key)
	if err != nil || found {
		if err == nil && !sameAdjustment(prev, a) {
			err = &OnceConflict{Recorded: prev}
		}
		return id, false, err
	}
	res, err := h.append(ctx, domain.TopUpStream(a.AccountID), exp, id, &a)
	if err != nil {
		return id, false, err
	}
	// Calls sent at once under one key all find it free; the store keeps
	// the first event of the ID, so each other learns here that its
	// adjustment is not the one recorded.
	if prev, _, err = h.adjustedUnder(ctx, a.AccountID, key); err == nil && !sameAdjustment(prev, a) {
		err = &OnceConflict{Recorded: prev}
	}
	return id, err == nil && !slices.Contains(res.Existing, id), err
}

// sameAdjustment reports whether b is the adjustment a, as checked
// (amounts equal however written, the reason trimmed).
func sameAdjustment(a, b domain.CreditsAdjusted) bool {
	return a.Amount.Equal(b.Amount) && a.Reason == b.Reason && a.Description == b.Description && a.Reverses == b.Reverses
}

// OnceConflict refuses a key of AdjustOnce sent again with another
// adjustment than the one it recorded.
type OnceConflict struct {
	Recorded domain.CreditsAdjusted
}

func (e *OnceConflict) Error() string {
	return fmt.Sprintf("the key already recorded another adjustment of %s: NT$%s (%s)", e.Recorded.AccountID, e.Recorded.Amount, e.Recorded.Reason)
}

func (e *OnceConflict) Unwrap() error { return ErrConflict }

// AdjustedOnce reports whether account has an adjustment recorded under
// key (AdjustOnce): an operator told so knows a second run added nothing.
func (h *Handler) AdjustedOnce(ctx context.Context, account, key string) (bool, error) {
	_, found, err := h.adjustedUnder(ctx, account, key)
	return found, err
}

// adjustedUnder is the adjustment of account recorded under key, if any.
func (h *Handler) adjustedUnder(ctx context.Context, account, key string) (domain.CreditsAdjusted, bool, error) {
	id := domain.EventID(domain.TypeCreditsAdjusted, account, strings.TrimSpace(key))
	var found *eventstore.RecordedEvent
	err := h.scanStream(ctx, domain.TopUpStream(account), func(e eventstore.RecordedEvent) (bool, error) {
		if e.ID == id {
			found = &e
		}
		return found == nil, nil
	})
	if err != nil || found == nil {
		return domain.CreditsAdjusted{}, false, err
	}
	body, err := domain.Decode(found.Type, found.SchemaVersion, found.Data)
	if err != nil {
		return domain.CreditsAdjusted{}, false, err
	}
	prev, ok := body.(*domain.CreditsAdjusted)
	if !ok {
		return domain.CreditsAdjusted{}, false, fmt.Errorf("event %s under an adjustment's key is a %s", id, found.Type)
	}
	return *prev, true, nil
}

// CheckAdjust refuses what Adjust would refuse, recording nothing.
func (h *Handler) CheckAdjust(ctx context.Context, a domain.CreditsAdjusted) error {
	_, _, err := h.checkAdjust(ctx, a, uuid.Nil)
	return err
}

// checkAdjust returns the adjustment as it is recorded and the version of
// the account's top-up stream to append it at: a reversal is decided on
// that stream (nothing reversed it yet), so two at once cannot both pass.
// id is the event ID the adjustment is to have, if known (a key's): a
// reversal sent again under its key is not refused as already reversed.
func (h *Handler) checkAdjust(ctx context.Context, a domain.CreditsAdjusted, id uuid.UUID) (domain.CreditsAdjusted, eventstore.ExpectedVersion, error) {
	var err error
	if a.Reason, err = plainText("an adjustment's reason", a.Reason, maxReason); err != nil {
		return a, eventstore.Any(), err
	}
	if a.Amount.IsZero() || a.Reason == "" {
		return a, eventstore.Any(), invalid("an adjustment needs a non-zero amount and a reason")
	}
	if a.Description, err = plainText("an adjustment's description", a.Description, maxReason); err != nil {
		return a, eventstore.Any(), err
	}
	if err := h.checkAmount("an adjustment", a.Amount); err != nil {
		return a, eventstore.Any(), err
	}
	// Balances show to the cent: a finer adjustment (a typo, an exponent)
	// would credit what no page shows.
	if p := centsProblem("an adjustment", a.Amount); p != "" {
		return a, eventstore.Any(), invalid("%s", p)
	}
	if _, _, err := h.Account(ctx, a.AccountID); err != nil {
		return a, eventstore.Any(), err
	}
	if a.Reverses == uuid.Nil {
		return a, eventstore.Any(), nil
	}
	exp, err := h.checkReversal(ctx, a, id)
	return a, exp, err
}

// checkReversal refuses a reversal that does not undo exactly one
// adjustment of the account: the one it names must be recorded in the
// account's top-up stream, be no reversal itself, be reversed by nothing
// yet, and have the reversal's amount negated.
func (h *Handler) checkReversal(ctx context.Context, a domain.CreditsAdjusted, id uuid.UUID) (eventstore.ExpectedVersion, error) {
	var target *domain.CreditsAdjusted
	reversedBy := uuid.Nil
	last := int64(-1)
	err := h.scanStream(ctx, domain.TopUpStream(a.AccountID), func(e eventstore.RecordedEvent) (bool, error) {
		last = int64(e.Version)
		if e.Type != domain.TypeCreditsAdjusted {
			return true, nil
		}
		body, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return false, err
		}
		b := body.(*domain.CreditsAdjusted)
		if e.ID == a.Reverses {
			target = b
		}
		if b.Reverses == a.Reverses && (id == uuid.Nil || e.ID != id) {
			reversedBy = e.ID
		}
		return true, nil
	})
	switch {
	case err != nil:
		return eventstore.Any(), err
	case target == nil:
		return eventstore.Any(), fmt.Errorf("%w: no adjustment %s of account %s to reverse", ErrNotFound, a.Reverses, domain.Excerpt(a.AccountID))
	case target.Reverses != uuid.Nil:
		return eventstore.Any(), invalid("adjustment %s reverses %s itself: a reversal is not reversed; record a new adjustment instead", a.Reverses, target.Reverses)
	case reversedBy != uuid.Nil:
		return eventstore.Any(), invalid("adjustment %s is already reversed, by %s", a.Reverses, reversedBy)
	case !a.Amount.Equal(target.Amount.Neg()):
		return eventstore.Any(), invalid("a reversal of adjustment %s (NT$%s) is of NT$%s, not NT$%s", a.Reverses, target.Amount, target.Amount.Neg(), a.Amount)
	}
	return expectAfter(last), nil
}

// PriceSkew is how far in the past a price list's effective time may be
// (the caller's clock against ours); such a list takes effect now. Earlier
// than that is refused: a list cannot change what requests already cost.
const PriceSkew = time.Minute

// MaxPriceLead is how far ahead a price list may be scheduled. Further is
// taken for a mistyped year: such a list would be carried forward by every
// later publication, and it would take effect long after anyone remembered it.
const MaxPriceLead = 366 * 24 * time.Hour

// PriceList is a price publication: the models' prices, when they take
// effect (zero: now), and whether they replace the list in force then or
// amend it (the default: every model not given keeps its price).
type PriceList struct {
	Prices      map[string]domain.ModelPrice
	EffectiveAt time.Time
	Replace     bool
}

// Published is what a publication did.
type Published struct {
	Version     int
	EffectiveAt time.Time
	Models      int       // models in the whole list now
	Changed     []string  // models given, sorted
	Removed     []string  // models of the previous list no longer priced (replace only), sorted
	Carried     []Carried // lists scheduled after this one, published again with its change
	// Unchanged: every price equals the list in force at EffectiveAt and
	// no scheduled list needed it, so nothing was recorded; Version is the
	// list in force then.
	Unchanged bool
}

// PublishPrices amends the list in force at effective (zero: now) with
// prices.
func (h *Handler) PublishPrices(ctx context.Context, prices map[string]domain.ModelPrice, effective time.Time) (int, error) {
	p, err := h.PublishPriceList(ctx, PriceList{Prices: prices, EffectiveAt: effective})
	return p.Version, err
}

// PublishPriceList publishes the next price-list version. The event holds
// the whole list, so a reader never merges.
func (h *Handler) PublishPriceList(ctx context.Context, in PriceList) (Published, error) {
	if len(in.Prices) == 0 {
		return Published{}, invalid("a price list needs at least one model")
	}
	for m, p := range in.Prices {
		write, hour := p.CacheWritePrice(), p.CacheWrite1hPrice()
		if p.Input.IsNegative() || p.Output.IsNegative() || p.CachedInput.IsNegative() || p.Reasoning.IsNegative() || write.IsNegative() || hour.IsNegative() {
			return Published{}, invalid("negative price for %s", m)
		}
		for _, v := range []decimal.Decimal{p.Input, p.Output, p.CachedInput, p.Reasoning, write, hour} {
			if v.GreaterThan(MaxPrice) {
				return Published{}, invalid("price NT$%s for %s: a price is at most NT$1,000,000 per million tokens", v, m)
			}
			if !v.Equal(v.Truncate(MaxPricePlaces)) {
				return Published{}, invalid("price NT$%s for %s: a price has at most %d decimal places", v, m, MaxPricePlaces)
			}
		}
	}
	now := h.Now()
	effective := in.EffectiveAt
	switch {
	case effective.IsZero():
		effective = now
	case effective.Before(now.Add(-PriceSkew)):
		return Published{}, invalid("effective_at %s is in the past: a price list takes effect now or later (omit it for now)", effective.UTC().Format(time.RFC3339))
	case effective.Before(now):
		effective = now
	case effective.After(now.Add(MaxPriceLead)):
		return Published{}, invalid("effective_at %s is more than a year ahead: a price list is scheduled at most a year ahead (was the year mistyped?)", effective.UTC().Format(time.RFC3339))
	}
	// Another process's list landing first makes this one be built again
	// on it: an amendment keeps what the other published.
	var out Published
	err := decideAgain(ctx, func() (err error) {
		out, err = h.publishPriceList(ctx, in, effective)
		return err
	})
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return Published{}, fmt.Errorf("%w: %v", ErrConflict, err)
	}
	if err != nil {
		return Published{}, err
	}
	return out, nil
}

// publishPriceList builds the list on the stream as it reads it now and
// appends it there, expecting no other list to land in between.
func (h *Handler) publishPriceList(ctx context.Context, in PriceList, effective time.Time) (Published, error) {
	evs, last, err := h.readStream(ctx, domain.PriceListStream)
	if err != nil {
		return Published{}, err
	}
	var lists []*domain.PriceListPublished
	for _, e := range evs {
		if pl, ok := e.(*domain.PriceListPublished); ok {
			lists = append(lists, pl)
		}
	}
	out := Published{Version: len(evs) + 1, EffectiveAt: effective.UTC()}
	// The list in force at the new one's effective time: the latest
	// effective at or before it, the later publication on a tie.
	base := inForceBefore(lists, &domain.PriceListPublished{Version: out.Version, EffectiveAt: effective})
	prices := make(map[string]domain.ModelPrice, len(in.Prices))
	if base != nil {
		for m, p := range base.Prices {
			if _, given := in.Prices[m]; !in.Replace || given {
				prices[m] = p
			} else {
				out.Removed = append(out.Removed, m)
			}
		}
	}
	for m, p := range in.Prices {
		prices[m] = p
		out.Changed = append(out.Changed, m)
	}
	sort.Strings(out.Changed)
	sort.Strings(out.Removed)
	out.Models = len(prices)
	pl := &domain.PriceListPublished{Version: out.Version, EffectiveAt: out.EffectiveAt, Prices: prices, Replace: in.Replace,
		Set: out.Changed}
	carried := carryForward(lists, pl, in.Prices)
	// The same list published again (a file published twice) would be a
	// new version that changes no price: nothing is recorded.
	if base != nil && len(carried) == 0 && maps.EqualFunc(prices, base.Prices, samePrice) {
		return Published{Version: base.Version, EffectiveAt: out.EffectiveAt, Models: len(prices), Unchanged: true}, nil
	}
	// The new list and the scheduled lists it reaches, in one append.
	now := h.Now()
	var data []eventstore.EventData
	for _, l := range append([]*domain.PriceListPublished{pl}, carried...) {
		domain.Stamp(ctx, l)
		d, err := Event(uuid.Nil, now, l)
		if err != nil {
			return Published{}, err
		}
		// The ID names the version and its content: the store keeps an ID
		// once, so another process's different list at the same version
		// must not pass for this one (the append would report success and
		// record nothing); the same list published twice is kept once.
		d.ID = domain.EventID(domain.TypePriceListPublished, fmt.Sprint(l.Version), string(d.Data))
		data = append(data, d)
		if l.Carries != 0 {
			out.Carried = append(out.Carried, Carried{Version: l.Version, Carries: l.Carries, EffectiveAt: l.EffectiveAt})
		}
	}
	_, err = h.Store.Append(ctx, domain.PriceListStream, expectAfter(last), data...)
	return out, err
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomID returns n characters from a CSPRNG, uniform over idAlphabet.
func randomID(n int) string {
	out := make([]byte, n)
	buf := make([]byte, n*2)
	i := 0
	for i < n {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // the OS CSPRNG does not fail on Linux
		}
		for _, b := range buf {
			if int(b) < 256-(256%len(idAlphabet)) { // reject to stay uniform
				out[i] = idAlphabet[int(b)%len(idAlphabet)]
				i++
				if i == n {
					break
				}
			}
		}
	}
	return string(out)
}
