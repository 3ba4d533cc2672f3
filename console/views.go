package console

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/paging"
	"github.com/routefree/routefree/projections"
)

// StaffToken is a staff token as the console knows it: never its secret.
// Who issued and who revoked it are named as `routefree staff list` and
// the audit log name them.
type StaffToken struct {
	ID        string        `json:"token_id"`
	Role      string        `json:"role"`
	Name      string        `json:"name,omitempty"`
	Revoked   bool          `json:"revoked"`
	IssuedAt  time.Time     `json:"issued_at"`
	IssuedBy  domain.Actor  `json:"issued_by"`
	RevokedAt time.Time     `json:"revoked_at,omitzero"`
	RevokedBy *domain.Actor `json:"revoked_by,omitempty"`
	hash      string
}

// AccountInfo is what the console shows of an account besides its money.
type AccountInfo struct {
	ID           string      `json:"account_id"`
	Organisation string      `json:"organisation"`
	TaxID        string      `json:"tax_id,omitempty"`
	Address      string      `json:"address,omitempty"`
	Contact      string      `json:"contact,omitempty"`
	Plan         domain.Plan `json:"plan"`
	RPM          int64       `json:"rpm,omitempty"` // custom limits (zero: the plan's)
	TPM          int64       `json:"tpm,omitempty"`
	OpenedAt     time.Time   `json:"opened_at"`
}

// TopUp is a credit movement: a top-up or a manual adjustment. An
// adjustment's Reason is staff's (forCustomer drops it); its Description is
// what the customer reads, AdjustmentLabel when finance gave none. Credit
// given as a top-up of method adjustment has a Reference staff made up
// (no bank or card gave it): forCustomer drops it too, and its customer
// reads AdjustmentLabel.
type TopUp struct {
	Amount      decimal.Decimal `json:"amount"`
	Method      string          `json:"method"`
	Reference   string          `json:"reference,omitempty"`
	Reason      string          `json:"reason,omitempty"`
	Description string          `json:"description,omitempty"`
	// ID is an adjustment's event ID, which a reversal names; Reverses the
	// ID of the adjustment it reverses. Staff's only, like Reason.
	ID       string `json:"id,omitempty"`
	Reverses string `json:"reverses,omitempty"`
	// Labelled: the description is the neutral label, which pages show in
	// their own language.
	Labelled bool      `json:"-"`
	At       time.Time `json:"at"`
}

// AdjustmentLabel describes an adjustment to its customer when finance
// gave it no description of its own.
const AdjustmentLabel = "Credit adjustment"

// forCustomer is a credit history as its customer may read it: without the
// reasons staff gave adjustments, nor the references of credit given.
func forCustomer(ts []TopUp) []TopUp {
	out := make([]TopUp, len(ts))
	for i, t := range ts {
		t.Reason, t.ID, t.Reverses = "", "", ""
		if t.Method == domain.MethodAdjustment {
			t.Reference = ""
		}
		out[i] = t
	}
	return out
}

// Tally is usage summed under one name (an app title or a model).
type Tally struct {
	Name     string          `json:"name"`
	Requests int64           `json:"requests"`
	Tokens   int64           `json:"tokens"`
	Cost     decimal.Decimal `json:"cost"`
}

// Views is the console's own read model, fed by the projections runner like
// the others: staff tokens, every account's usage and top-ups per day and
// the public rankings. Accounts come from the process's one account
// directory (projections.Accounts); an account's top-ups from its stream
// in the store (accountTopUps).
type Views struct {
	accounts    *projections.Accounts
	mu          sync.RWMutex
	pos         eventstore.Position
	staff       map[string]*StaffToken
	usage       *usageIndex // every account's usage and top-ups per day
	staffByHash map[string]*StaffToken
	ranks       *rankings // the public rankings: by day, listed accounts
	// refs is which account holds each payment's reference, for the
	// commands that record top-ups.
	refs *commands.PaymentReferences
}

var _ projections.Projection = (*Views)(nil)

// NewViews returns an empty console read model: add it to the projections
// runner beside projections.Models.All(). accounts is the models' directory
// (projections.Models.Accounts), which their Balances projection keeps.
func NewViews(accounts *projections.Accounts) *Views {
	return &Views{
		accounts: accounts, staff: map[string]*StaffToken{}, staffByHash: map[string]*StaffToken{}, usage: newUsageIndex(),
		ranks: newRankings(), refs: commands.NewPaymentReferences(),
	}
}

// WithClock sets the clock the public rankings' windows follow (time.Now
// when not set); call it before the runner applies the first event.
func (v *Views) WithClock(now func() time.Time) *Views {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ranks.now = now
	return v
}

// Name implements projections.Projection.
func (v *Views) Name() string { return "console" }

// Checkpoint implements projections.Projection.
func (v *Views) Checkpoint(context.Context) (eventstore.Position, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.pos, nil
}

// Apply implements projections.Projection.
func (v *Views) Apply(_ context.Context, batch []projections.Event) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ranks.trim()
	for i := range batch {
		e := &batch[i]
		if !v.pos.Less(e.Position) {
			continue // redelivered after a restart
		}
		if e.Err != nil && v.wants(e.Type) {
			return e.Err
		}
		v.apply(e)
		v.usage.apply(e)
		v.pos = e.Position
	}
	return nil
}

func (v *Views) wants(t string) bool {
	if t == domain.TypeCreditsToppedUp { // top-ups per day (usageIndex)
		return true
	}
	switch t {
	case domain.TypeStaffTokenIssued, domain.TypeStaffTokenRevoked, domain.TypeRequestCompleted, domain.TypeRankingsListed:
		return true
	}
	return false
}

func tally(m map[string]*Tally, name string, tokens int64, cost decimal.Decimal) {
	t, ok := m[name]
	if !ok {
		t = &Tally{Name: name}
		m[name] = t
	}
	t.Requests++
	t.Tokens += tokens
	t.Cost = t.Cost.Add(cost)
}

// merge adds t to the tally named name in m.
func merge(m map[string]*Tally, name string, t Tally) {
	s, ok := m[name]
	if !ok {
		s = &Tally{Name: name}
		m[name] = s
	}
	s.Requests += t.Requests
	s.Tokens += t.Tokens
	s.Cost = s.Cost.Add(t.Cost)
}

func (v *Views) apply(e *projections.Event) {
	v.ranks.apply(e)
	switch b := e.Body.(type) {
	case *domain.StaffTokenIssued:
		t := &StaffToken{ID: b.TokenID, Role: b.Role, Name: b.Name, IssuedAt: e.OccurredAt, IssuedBy: b.Actor, hash: b.Hash}
		v.staff[b.TokenID] = t
		v.staffByHash[b.Hash] = t
	case *domain.StaffTokenRevoked:
		if t, ok := v.staff[b.TokenID]; ok && !t.Revoked {
			by := b.Actor
			t.Revoked, t.RevokedAt, t.RevokedBy = true, e.OccurredAt, &by
		}
	case *domain.CreditsToppedUp:
		v.refs.Add(e.ID, b)
	}
}

// PaymentReferences is which account holds each payment's reference, for
// a commands.Handler's PaymentReferences.
func (v *Views) PaymentReferences() *commands.PaymentReferences { return v.refs }

// StaffByHash finds a staff token by the hex SHA-256 of its secret.
func (v *Views) StaffByHash(hash string) (StaffToken, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	t, ok := v.staffByHash[hash]
	if !ok {
		return StaffToken{}, false
	}
	return *t, true
}

// StaffTokens lists every staff token, by issue time.
func (v *Views) StaffTokens() []StaffToken {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]StaffToken, 0, len(v.staff))
	for _, t := range v.staff {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].IssuedAt.Before(out[j].IssuedAt) || (out[i].IssuedAt.Equal(out[j].IssuedAt) && out[i].ID < out[j].ID)
	})
	return out
}

func accountInfo(a projections.Account) AccountInfo {
	return AccountInfo{ID: a.ID, Organisation: a.Organisation, TaxID: a.TaxID, Address: a.Address,
		Contact: a.Contact, Plan: a.Plan, RPM: a.RPM, TPM: a.TPM, OpenedAt: a.OpenedAt}
}

// Accounts lists accounts in the order they were opened.
func (v *Views) Accounts() []AccountInfo {
	all := v.accounts.Opened()
	out := make([]AccountInfo, len(all))
	for i, a := range all {
		out[i] = accountInfo(a)
	}
	return out
}

// AccountCount is the number of accounts.
func (v *Views) AccountCount() int { return v.accounts.Count() }

// AccountsPage is the page r asks for of the accounts in the order they
// were opened, and how many there are.
func (v *Views) AccountsPage(r paging.Request) (page []AccountInfo, total int) {
	all, total := v.accounts.OpenedPage(r)
	page = make([]AccountInfo, len(all))
	for i, a := range all {
		page[i] = accountInfo(a)
	}
	return page, total
}

// Account returns one account.
func (v *Views) Account(id string) (AccountInfo, bool) {
	a, ok := v.accounts.Get(id)
	if !ok {
		return AccountInfo{}, false
	}
	return accountInfo(a), true
}

// accountTopUps lists an account's credit movements, newest first, read from its
// top-up stream: the store keeps them by account already, so no read model
// holds every account's.
func accountTopUps(ctx context.Context, store eventstore.Store, account string) ([]TopUp, error) {
	const page = 1000
	var out []TopUp
	for from := uint64(0); ; from += page {
		evs, err := store.ReadStream(ctx, domain.TopUpStream(account), from, page)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		for i := range evs {
			e := &evs[i]
			if e.Type != domain.TypeCreditsToppedUp && e.Type != domain.TypeCreditsAdjusted {
				continue
			}
			body, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return nil, err
			}
			switch b := body.(type) {
			case *domain.CreditsToppedUp:
				t := TopUp{Amount: b.Amount, Method: b.Method, Reference: b.Reference, At: e.OccurredAt}
				if t.Method == domain.MethodAdjustment {
					t.Description, t.Labelled = AdjustmentLabel, true
				}
				out = append(out, t)
			case *domain.CreditsAdjusted:
				t := TopUp{Amount: b.Amount, Method: domain.MethodAdjustment, Reason: b.Reason, Description: b.Description, At: e.OccurredAt,
					ID: e.ID.String()}
				if b.Reverses != uuid.Nil {
					t.Reverses = b.Reverses.String()
				}
				if t.Description == "" {
					t.Description, t.Labelled = AdjustmentLabel, true
				}
				out = append(out, t)
			}
		}
		if len(evs) < page {
			break
		}
	}
	slices.Reverse(out)
	if out == nil {
		out = []TopUp{}
	}
	return out, nil
}

func sortedTallies(m map[string]*Tally, limit int) []Tally {
	out := make([]Tally, 0, len(m))
	for _, t := range m {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Tokens != out[j].Tokens {
			return out[i].Tokens > out[j].Tokens
		}
		return out[i].Name < out[j].Name
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
