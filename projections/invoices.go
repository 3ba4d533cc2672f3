package projections

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/routefree/routefree/domain"
)

// Invoice statuses.
const (
	InvoiceIssued = "issued"
	InvoiceVoided = "voided"
)

// Allowance is a 折讓 against an invoice.
type Allowance struct {
	Number string
	Sales  int64
	Tax    int64
	Reason string
	Voided bool
}

// InvoiceRecord is an invoice with its status. Lines stay in the event.
type InvoiceRecord struct {
	Number     string
	Period     string // first month of the two-month period
	Month      string // billing month, or the Taipei month of issue
	AccountID  string
	Kind       string // b2b or b2c
	BuyerName  string
	BuyerTaxID string
	TopUpRef   string
	Sales      int64
	Tax        int64
	Total      int64
	IssuedAt   time.Time
	Status     string
	VoidReason string
	Allowances []Allowance
	// Reused says that the number was issued in another period too (字軌
	// letters recycle): links and forms then name the period (Ref).
	Reused bool
}

// Ref names the invoice in links and forms: its number, or its period and
// number when the number was issued in another period too (the reference
// invoicing takes, see invoicing.InvoiceRef).
func (r InvoiceRecord) Ref() string {
	if r.Reused {
		return r.Period + "-" + r.Number
	}
	return r.Number
}

// Net is what the invoice still bills: zero when voided, less its allowances.
func (r InvoiceRecord) Net() int64 {
	if r.Status == InvoiceVoided {
		return 0
	}
	n := r.Total
	for _, a := range r.Allowances {
		if !a.Voided {
			n -= a.Sales + a.Tax
		}
	}
	return n
}

// Invoices lists issued invoices with their status. 字軌 letters recycle
// across periods, so an invoice is keyed by its period and number: the same
// number issued a year later is another invoice.
type Invoices struct {
	memCheckpoint
	mu      sync.RWMutex
	records map[string]*InvoiceRecord // by invoiceKey
	latest  map[string]*InvoiceRecord // by number: the last issued
	reused  map[string]bool           // numbers issued in more than one period
}

var _ Projection = (*Invoices)(nil)

// NewInvoices returns an empty invoice model.
func NewInvoices() *Invoices {
	return &Invoices{records: map[string]*InvoiceRecord{}, latest: map[string]*InvoiceRecord{}, reused: map[string]bool{}}
}

// invoiceKey is an invoice's period and number, as its own stream names
// them (domain.InvoiceStream); the number alone for an invoice without a
// period.
func invoiceKey(period, number string) string {
	if period == "" {
		return number
	}
	return period + "-" + number
}

// ofStream finds the invoice that a void or an allowance belongs to: the
// one its stream names, or else the last issued with the number. v.mu is
// held.
func (v *Invoices) ofStream(stream, number string) *InvoiceRecord {
	if key, ok := strings.CutPrefix(stream, domain.InvoiceStream("")); ok {
		if r := v.records[key]; r != nil && r.Number == number {
			return r
		}
	}
	return v.latest[number]
}

// Name implements Projection.
func (v *Invoices) Name() string { return "invoices" }

// Get returns the last invoice issued with a number.
func (v *Invoices) Get(number string) (InvoiceRecord, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r, ok := v.latest[number]
	if !ok {
		return InvoiceRecord{}, false
	}
	return v.cloneOf(r), true
}

// List returns the invoices of a month and account ("" matches any), by
// period and number.
func (v *Invoices) List(month, account string) []InvoiceRecord {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []InvoiceRecord
	for _, r := range v.records {
		if (month == "" || r.Month == month) && (account == "" || r.AccountID == account) {
			out = append(out, v.cloneOf(r))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Period != out[j].Period {
			return out[i].Period < out[j].Period
		}
		return out[i].Number < out[j].Number
	})
	return out
}

// Totals is the net amount invoiced per month (NTD).
func (v *Invoices) Totals() map[string]int64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := map[string]int64{}
	for _, r := range v.records {
		out[r.Month] += r.Net()
	}
	return out
}

// cloneOf copies a record for a reader, with Reused set. v.mu is held.
func (v *Invoices) cloneOf(r *InvoiceRecord) InvoiceRecord {
	c := *r
	c.Allowances = append([]Allowance(nil), r.Allowances...)
	c.Reused = v.reused[r.Number]
	return c
}

// Apply implements Projection.
func (v *Invoices) Apply(_ context.Context, batch []Event) error {
	batch = v.fresh(batch)
	for i := range batch {
		e := &batch[i]
		switch b := e.Body.(type) {
		case *domain.InvoiceIssued:
			month := b.Month
			if month == "" {
				month = MonthOf(b.IssuedAt)
			}
			r := &InvoiceRecord{
				Number: b.Number, Period: b.Period, Month: month, AccountID: b.AccountID, Kind: b.Kind,
				BuyerName: b.BuyerName, BuyerTaxID: b.BuyerTaxID, TopUpRef: b.TopUpRef,
				Sales: b.Sales, Tax: b.Tax, Total: b.Total, IssuedAt: b.IssuedAt.UTC(), Status: InvoiceIssued,
			}
			v.mu.Lock()
			v.records[invoiceKey(b.Period, b.Number)] = r
			if prev := v.latest[b.Number]; prev != nil && prev.Period != r.Period {
				v.reused[b.Number] = true
			}
			v.latest[b.Number] = r
			v.mu.Unlock()
		case *domain.InvoiceVoided:
			v.mu.Lock()
			if r := v.ofStream(e.Stream, b.Number); r != nil {
				r.Status, r.VoidReason = InvoiceVoided, b.Reason
			}
			v.mu.Unlock()
		case *domain.AllowanceIssued:
			v.mu.Lock()
			if r := v.ofStream(e.Stream, b.InvoiceNumber); r != nil {
				r.Allowances = append(r.Allowances, Allowance{Number: b.Number, Sales: b.Sales, Tax: b.Tax, Reason: b.Reason})
			}
			v.mu.Unlock()
		case *domain.AllowanceVoided:
			v.mu.Lock()
			if r := v.ofStream(e.Stream, b.InvoiceNumber); r != nil {
				for i := range r.Allowances {
					if r.Allowances[i].Number == b.Number {
						r.Allowances[i].Voided = true
					}
				}
			}
			v.mu.Unlock()
		default:
			if e.Err != nil && (e.Type == domain.TypeInvoiceIssued || e.Type == domain.TypeInvoiceVoided ||
				e.Type == domain.TypeAllowanceIssued || e.Type == domain.TypeAllowanceVoided) {
				v.done(batch[:i])
				return e.Err
			}
		}
	}
	v.done(batch)
	return nil
}
