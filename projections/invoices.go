package projections

import (
	"context"
	"slices"
	"sort"
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
	Number string
	Period string // first month of the two-month period
	// Month is the billing month; a top-up invoice's, the Taipei month of
	// its payment, as its event names it (its month of issue if recorded
	// before the event named it): where invoicing runs,
	// invoicing.Service.RecordMonth is the month to count the invoice in.
	Month      string
	AccountID  string
	Kind       string // b2b or b2c
	BuyerName  string
	BuyerTaxID string
	TopUpRef   string
	// TopUps are the references of the paid top-ups a top-up invoice
	// bills: TopUpRef and earlier ones carried to it.
	TopUps     []string
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
	// earlier is the invoice of an earlier period with the same number.
	earlier *InvoiceRecord
}

// Bills reports whether the invoice bills the top-up of reference ref.
func (r InvoiceRecord) Bills(ref string) bool {
	return ref != "" && (r.TopUpRef == ref || slices.Contains(r.TopUps, ref))
}

// Payments are the references of the payments a top-up invoice bills
// (none for a usage invoice).
func (r InvoiceRecord) Payments() []string {
	switch {
	case len(r.TopUps) > 0:
		return r.TopUps
	case r.TopUpRef != "":
		return []string{r.TopUpRef}
	}
	return nil
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
// across periods, so the same number issued a year later is another
// invoice: each number's latest invoice holds those of earlier periods
// (rarely any), so that the model keeps one entry per number.
type Invoices struct {
	memCheckpoint
	mu       sync.RWMutex
	byNumber map[string]*InvoiceRecord // the latest invoice of each number
}

var _ Projection = (*Invoices)(nil)

// NewInvoices returns an empty invoice model.
func NewInvoices() *Invoices { return &Invoices{byNumber: map[string]*InvoiceRecord{}} }

// Name implements Projection.
func (v *Invoices) Name() string { return "invoices" }

// issued adds an invoice: the latest of its number, ahead of those of
// earlier periods. v.mu is held.
func (v *Invoices) issued(r *InvoiceRecord) {
	if prev := v.byNumber[r.Number]; prev != nil {
		r.earlier = prev.earlier
		if prev.Period != r.Period {
			r.earlier = prev
		}
	}
	v.byNumber[r.Number] = r
}

// ofStream finds the invoice that a void or an allowance belongs to: the
// one whose own stream (domain.InvoiceStream of its period and number) it
// was recorded in, or else the latest with the number. v.mu is held.
func (v *Invoices) ofStream(stream, number string) *InvoiceRecord {
	latest := v.byNumber[number]
	for r := latest; r != nil; r = r.earlier {
		if stream == domain.InvoiceStream(r.Period+"-"+r.Number) {
			return r
		}
	}
	return latest
}

// all yields every invoice, with whether its number was issued in another
// period too. v.mu is held.
func (v *Invoices) all(yield func(r *InvoiceRecord, reused bool)) {
	for _, latest := range v.byNumber {
		for r := latest; r != nil; r = r.earlier {
			yield(r, latest.earlier != nil)
		}
	}
}

// Get returns the latest invoice issued with a number.
func (v *Invoices) Get(number string) (InvoiceRecord, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r, ok := v.byNumber[number]
	if !ok {
		return InvoiceRecord{}, false
	}
	return r.clone(r.earlier != nil), true
}

// List returns the invoices of a month and account ("" matches any), by
// period and number.
func (v *Invoices) List(month, account string) []InvoiceRecord {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []InvoiceRecord
	v.all(func(r *InvoiceRecord, reused bool) {
		if (month == "" || r.Month == month) && (account == "" || r.AccountID == account) {
			out = append(out, r.clone(reused))
		}
	})
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
	v.all(func(r *InvoiceRecord, _ bool) { out[r.Month] += r.Net() })
	return out
}

// clone copies a record for a reader.
func (r *InvoiceRecord) clone(reused bool) InvoiceRecord {
	c := *r
	c.Allowances = append([]Allowance(nil), r.Allowances...)
	c.TopUps = append([]string(nil), r.TopUps...)
	c.Reused, c.earlier = reused, nil
	return c
}

// Apply implements Projection.
func (v *Invoices) Apply(_ context.Context, batch []Event) error {
	batch = v.fresh(batch)
	for i := range batch {
		e := &batch[i]
		switch b := e.Body.(type) {
		case *domain.InvoiceIssued:
			// A monthly invoice counts in the month it bills, a top-up
			// invoice in the month of its payment, which its event names;
			// one issued before it did, in its month of issue (invoicing's
			// ledger, which every view asks first, knows the payment's).
			month := b.Month
			switch {
			case month != "":
			case b.PaidMonth != "":
				month = b.PaidMonth
			default:
				month = MonthOf(b.IssuedAt)
			}
			r := &InvoiceRecord{
				Number: b.Number, Period: b.Period, Month: month, AccountID: b.AccountID, Kind: b.Kind,
				BuyerName: b.BuyerName, BuyerTaxID: b.BuyerTaxID, TopUpRef: b.TopUpRef, TopUps: b.TopUps,
				Sales: b.Sales, Tax: b.Tax, Total: b.Total, IssuedAt: b.IssuedAt.UTC(), Status: InvoiceIssued,
			}
			v.mu.Lock()
			v.issued(r)
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
