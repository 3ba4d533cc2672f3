package invoicing

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

// Invoice is an issued invoice with what happened to it since.
type Invoice struct {
	domain.InvoiceIssued
	EventID    uuid.UUID
	Voided     bool
	VoidReason string
	VoidedAt   time.Time
	Allowances []Allowance
	// version is the last version of the invoice's own stream (voids and
	// allowances); -1 while it has none.
	version int64
}

// Allowance is an allowance (折讓) with its time of issue.
type Allowance struct {
	domain.AllowanceIssued
	IssuedAt time.Time
}

// Net is what the invoice still bills: zero when voided, less allowances.
func (inv *Invoice) Net() int64 {
	if inv.Voided {
		return 0
	}
	n := inv.Total
	for _, a := range inv.Allowances {
		n -= a.Sales + a.Tax
	}
	return n
}

func (inv *Invoice) clone() Invoice {
	c := *inv
	c.Allowances = append([]Allowance(nil), inv.Allowances...)
	c.Lines = append([]domain.InvoiceLine(nil), inv.Lines...)
	return c
}

// Quote is a quotation and, once accepted, its contract.
type Quote struct {
	domain.QuoteIssued
	Accepted bool
	Contract *domain.ContractIssued
	// ContractAt is when the contract was issued (its signing date).
	ContractAt time.Time
	version    int64
}

// account is what invoices need of an account: the buyer and the plan.
type account struct {
	ID           string
	Organisation string
	TaxID        string
	Plan         domain.Plan
	Carrier      string // B2C carrier (載具), see domain.InvoiceCarrierSet
	DonationCode string // B2C donation code (愛心碼)
}

// acctMonth keys usage: an account and a Taipei month.
type acctMonth struct{ acct, month string }

// modelUsage is one account's usage of one model in one month; costs are
// summed in full precision.
type modelUsage struct {
	Model     string
	Requests  int64
	TokensIn  int64
	TokensOut int64
	Cost      projections.Amount
}

// topUp is a paid top-up.
type topUp struct {
	AccountID string
	Reference string
	Amount    projections.Amount
}

// rangeState is the fold of a period's range stream.
type rangeState struct {
	rngs     twrules.Ranges // in order of assignment
	assigned bool
	last     int64 // last stream version, -1: no stream
	count    int64 // InvoiceIssued events in the stream
}

// ledger is what invoicing knows of the history, folded from the store.
type ledger struct {
	pos      eventstore.Position
	accounts map[string]*account
	usage    map[acctMonth][]modelUsage // by model, in order of first use
	topUps   []topUp                    // paid top-ups, in order
	// strs holds one copy of the model names and months that every usage
	// event repeats.
	strs map[string]string
	// topUpsDone counts the top-ups the projector has invoiced (or passed).
	topUpsDone int
	ranges     map[string]*rangeState // by period
	byID       map[uuid.UUID]*Invoice
	byKey      map[string]*Invoice // natural key: monthly or top-up
	byNumber   map[string]*Invoice // the latest invoice of a number (letters recycle across periods)
	byAllow    map[string]*Invoice // allowance number → invoice
	invoices   []*Invoice          // in order of issue
	quotes     map[string]*Quote
	contract   map[string]*Quote     // contract ID → quote
	filing     map[string]*filed     // document key → what Turnkey reported (outbox.go)
	seller     *domain.InvoiceSeller // the last seller folded, shared by equal ones
}

func newLedger() *ledger {
	return &ledger{
		accounts: map[string]*account{}, usage: map[acctMonth][]modelUsage{}, strs: map[string]string{},
		ranges: map[string]*rangeState{}, byID: map[uuid.UUID]*Invoice{}, byKey: map[string]*Invoice{},
		byNumber: map[string]*Invoice{}, byAllow: map[string]*Invoice{}, quotes: map[string]*Quote{},
		contract: map[string]*Quote{}, filing: map[string]*filed{},
	}
}

// Natural keys of invoices: one per (account, month) and per (account, top-up).
func monthlyKey(acct, month string) string { return "monthly\x00" + acct + "\x00" + month }
func topUpKey(acct, ref string) string     { return "topup\x00" + acct + "\x00" + ref }

func invoiceKey(inv *domain.InvoiceIssued) string {
	if inv.TopUpRef != "" {
		return topUpKey(inv.AccountID, inv.TopUpRef)
	}
	return monthlyKey(inv.AccountID, inv.Month)
}

// monthlyEventID and topUpEventID are the deterministic IDs of invoices: a
// retried or concurrent issue of the same invoice is stored once.
func monthlyEventID(acct, month string) uuid.UUID {
	return domain.EventID(domain.TypeInvoiceIssued, "monthly", acct, month)
}

func topUpEventID(acct, ref string) uuid.UUID {
	return domain.EventID(domain.TypeInvoiceIssued, "topup", acct, ref)
}

// invoiceStream holds an invoice's voids and allowances; the period is part
// of the key because 字軌 letters recycle across periods.
func invoiceStream(period, number string) string { return domain.InvoiceStream(period + "-" + number) }

// monthOf is the Taipei billing month of an instant.
func monthOf(t time.Time) string { return t.In(twrules.Taipei).Format("2006-01") }

// applyAll folds one event read in global order. Events of versioned
// streams (ranges, invoices, quotes) may already have been folded from a
// stream read; their version says so.
func (l *ledger) applyAll(e *eventstore.RecordedEvent) error {
	if !domain.Known(e.Type) {
		return nil
	}
	switch {
	case strings.HasPrefix(e.Stream, domain.InvoiceRangeStream("")):
		return l.applyRange(strings.TrimPrefix(e.Stream, domain.InvoiceRangeStream("")), e)
	case strings.HasPrefix(e.Stream, domain.InvoiceStream("")):
		return l.applyInvoiceStream(e)
	case strings.HasPrefix(e.Stream, domain.QuoteStream("")):
		return l.applyQuote(e)
	case strings.HasPrefix(e.Stream, domain.FilingStream("")):
		return l.applyFiling(e)
	}
	switch e.Type {
	case domain.TypeAccountOpened, domain.TypePlanChanged, domain.TypeRequestCompleted, domain.TypeCreditsToppedUp,
		domain.TypeInvoiceCarrierSet:
	default:
		return nil // nothing invoicing needs
	}
	ev, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	switch b := ev.(type) {
	case *domain.AccountOpened:
		l.accounts[b.AccountID] = &account{ID: b.AccountID, Organisation: b.Organisation, TaxID: b.TaxID,
			Plan: domain.Plan(l.str(string(b.Plan)))}
	case *domain.PlanChanged:
		if a, ok := l.accounts[b.AccountID]; ok {
			a.Plan = domain.Plan(l.str(string(b.Plan)))
		}
	case *domain.InvoiceCarrierSet:
		if a, ok := l.accounts[b.AccountID]; ok {
			a.Carrier, a.DonationCode = b.Carrier, b.DonationCode
		}
	case *domain.RequestCompleted:
		at := b.StartedAt
		if at.IsZero() {
			at = e.OccurredAt
		}
		k := acctMonth{l.accountID(b.AccountID), l.str(monthOf(at))}
		models := l.usage[k]
		i := 0
		for i < len(models) && models[i].Model != b.Model {
			i++
		}
		if i == len(models) {
			models = append(models, modelUsage{Model: l.str(b.Model)})
			l.usage[k] = models
		}
		u := &models[i]
		u.Requests++
		u.TokensIn += b.Usage.Input
		u.TokensOut += b.Usage.Output
		u.Cost = u.Cost.Add(b.Cost)
	case *domain.CreditsToppedUp:
		if b.Method == domain.MethodCard || b.Method == domain.MethodBankTransfer {
			l.topUps = append(l.topUps, topUp{AccountID: l.accountID(b.AccountID), Reference: b.Reference,
				Amount: projections.AmountOf(b.Amount)})
		}
	}
	return nil
}

// accountID returns the ledger's own copy of an account ID when it knows
// the account, so that its usage and top-ups do not each keep another.
func (l *ledger) accountID(id string) string {
	if a := l.accounts[id]; a != nil {
		return a.ID
	}
	return id
}

// str returns one shared copy of a string that many events repeat.
func (l *ledger) str(s string) string {
	if c, ok := l.strs[s]; ok {
		return c
	}
	l.strs[s] = s
	return s
}

// applyRange folds an event of a period's range stream, once per version.
func (l *ledger) applyRange(period string, e *eventstore.RecordedEvent) error {
	st := l.ranges[period]
	if st == nil {
		st = &rangeState{last: -1}
		l.ranges[period] = st
	}
	if int64(e.Version) <= st.last {
		return nil
	}
	ev, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	st.last = int64(e.Version)
	switch b := ev.(type) {
	case *domain.InvoiceRangeAssigned:
		// AssignRange appends only ranges that overlap none before them.
		if r := (twrules.Range{Prefix: b.Prefix, From: b.From, To: b.To}); !overlapsAny(st.rngs, r) {
			st.rngs, st.assigned = append(st.rngs, r), true
		}
	case *domain.InvoiceIssued:
		st.count++
		if b.Seller != nil && l.seller != nil && *b.Seller == *l.seller {
			b.Seller = l.seller // one copy of the seller for the invoices that share it
		} else if b.Seller != nil {
			l.seller = b.Seller
		}
		inv := &Invoice{InvoiceIssued: *b, EventID: e.ID, version: -1}
		l.byID[e.ID] = inv
		l.byKey[invoiceKey(b)] = inv
		l.byNumber[b.Number] = inv
		l.invoices = append(l.invoices, inv)
	}
	return nil
}

// applyInvoiceStream folds a void or an allowance, once per version.
func (l *ledger) applyInvoiceStream(e *eventstore.RecordedEvent) error {
	ev, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	var number string
	switch b := ev.(type) {
	case *domain.InvoiceVoided:
		number = b.Number
	case *domain.AllowanceIssued:
		number = b.InvoiceNumber
	default:
		return nil
	}
	inv := l.byStream(e.Stream, number)
	if inv == nil || int64(e.Version) <= inv.version {
		return nil
	}
	inv.version = int64(e.Version)
	switch b := ev.(type) {
	case *domain.InvoiceVoided:
		inv.Voided, inv.VoidReason, inv.VoidedAt = true, b.Reason, e.OccurredAt
	case *domain.AllowanceIssued:
		inv.Allowances = append(inv.Allowances, Allowance{AllowanceIssued: *b, IssuedAt: e.OccurredAt})
		l.byAllow[b.Number] = inv
	}
	return nil
}

// byStream finds the invoice whose own stream is stream.
func (l *ledger) byStream(stream, number string) *Invoice {
	if inv := l.byNumber[number]; inv != nil && invoiceStream(inv.Period, inv.Number) == stream {
		return inv
	}
	for i := len(l.invoices) - 1; i >= 0; i-- {
		if inv := l.invoices[i]; inv.Number == number && invoiceStream(inv.Period, inv.Number) == stream {
			return inv
		}
	}
	return nil
}

// applyQuote folds a quote stream's events, once per version.
func (l *ledger) applyQuote(e *eventstore.RecordedEvent) error {
	ev, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	switch b := ev.(type) {
	case *domain.QuoteIssued:
		if _, ok := l.quotes[b.QuoteID]; !ok && e.Version == 0 {
			l.quotes[b.QuoteID] = &Quote{QuoteIssued: *b, version: 0}
		}
	case *domain.QuoteAccepted:
		if q := l.quotes[b.QuoteID]; q != nil && int64(e.Version) > q.version {
			q.Accepted, q.version = true, int64(e.Version)
		}
	case *domain.ContractIssued:
		if q := l.quotes[b.QuoteID]; q != nil && int64(e.Version) > q.version {
			c := *b
			q.Contract, q.ContractAt, q.version = &c, e.OccurredAt, int64(e.Version)
			l.contract[b.ContractID] = q
		}
	}
	return nil
}
