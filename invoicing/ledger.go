package invoicing

import (
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/jsonscan"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

// Invoice is an issued invoice with what happened to it since.
//
// The ledger keeps of each invoice what its sums, lists and checks need
// (invoice), not its document: the lines, 隨機碼, carrier, donation code,
// seller and actor are read from the invoice's event when it is shown,
// rendered or filed (Service.LoadDocuments). Lists (Service.Invoices) leave
// them out.
type Invoice struct {
	domain.InvoiceIssued
	EventID    uuid.UUID
	Voided     bool
	VoidReason string
	VoidedAt   time.Time
	// Special is the tax office's approval of a special void (專案作廢);
	// nil on a normal void.
	Special *domain.SpecialVoid
	// VoidLess is what its void took off the re-issue of its usage
	// (InvoiceVoided.Less); 0 otherwise.
	VoidLess   int64
	Allowances []Allowance
	// version is the last version of the invoice's own stream (voids and
	// allowances); -1 while it has none.
	version int64
	// at is the version of the invoice's event in its period's range
	// stream, where its document is read from.
	at uint64
	// summary is set while the document is left out.
	summary bool
}

// Allowance is an allowance (折讓) with its time of issue and, once voided,
// its void.
type Allowance struct {
	domain.AllowanceIssued
	IssuedAt   time.Time
	Voided     bool
	VoidReason string
	VoidedAt   time.Time
	// VoidUploadBy is when the void's G0501 is late (zero in events
	// recorded before voids carried it).
	VoidUploadBy time.Time
	// moved is what the allowance took off its account's due (on a
	// monthly invoice): what its void makes due again. paid is what it
	// took off usage already paid: money the customer is owed back.
	moved, paid projections.Amount
	// issuedV and voidedV are the versions of its issue and void (0 while
	// live) in its invoice's stream: what G0401 orders allowances by.
	issuedV, voidedV uint64
}

// Net is what the invoice still bills: zero when voided, less its live
// allowances.
func (inv *Invoice) Net() int64 {
	if inv.Voided {
		return 0
	}
	n := inv.Total
	for _, a := range inv.Allowances {
		if !a.Voided {
			n -= a.Sales + a.Tax
		}
	}
	return n
}

// allowed sums the live allowances' sales and tax.
func (inv *Invoice) allowed() (sales, tax int64) {
	for _, a := range inv.Allowances {
		if !a.Voided {
			sales, tax = sales+a.Sales, tax+a.Tax
		}
	}
	return sales, tax
}

// invoice is what the ledger keeps of an issued invoice, one for every
// top-up and account month billed, for the life of the process: what its
// sums, lists and checks need, without the document (Invoice has it).
// Its strings are shared with other records where they repeat.
type invoice struct {
	Number, Period, AccountID, Month, TopUpRef, Kind string
	BuyerName, BuyerTaxID                            string // the account's own copies while they agree
	Sales, Tax, Total                                int64
	IssuedAt, UploadBy                               time.Time
	Covers                                           projections.Amount // exact, without a big.Int while it fits an int64
	Usage                                            []domain.UsageBilled
	TopUps                                           []string
	EventID                                          uuid.UUID
	changes                                          *invoiceChanges // nil while neither voided, allowed nor a re-issue
	Seq                                              int32
	version                                          int32  // as Invoice.version
	at                                               uint64 // as Invoice.at
	Voided                                           bool
}

// invoiceChanges is what few invoices have: a void, allowances.
type invoiceChanges struct {
	voidReason string
	voidedAt   time.Time
	special    *domain.SpecialVoid
	allowances []Allowance
	replaces   []string // the voided invoices a re-issue bills again
	// less is what a monthly invoice bills less than its usage's rounding
	// (InvoiceIssued.Less): the voids' Less it carries. voidLess is the
	// Less of its own void (InvoiceVoided.Less).
	less, voidLess int64
}

// billsPayments reports a top-up invoice (domain.InvoiceIssued.BillsPayments).
func (inv *invoice) billsPayments() bool { return inv.TopUpRef != "" || len(inv.TopUps) > 0 }

// carried is the voids' Less that the invoice carries (InvoiceIssued.Less).
func (inv *invoice) carried() int64 {
	if inv.changes == nil {
		return 0
	}
	return inv.changes.less
}

// allowances returns the invoice's allowances, voided ones too.
func (inv *invoice) allowances() []Allowance {
	if inv.changes == nil {
		return nil
	}
	return inv.changes.allowances
}

// change returns the invoice's changes, made on first use.
func (inv *invoice) change() *invoiceChanges {
	if inv.changes == nil {
		inv.changes = &invoiceChanges{}
	}
	return inv.changes
}

// Net is what the invoice still bills (Invoice.Net).
func (inv *invoice) Net() int64 {
	if inv.Voided {
		return 0
	}
	sales, tax := inv.allowed()
	return inv.Total - sales - tax
}

// allowed sums the live allowances' sales and tax.
func (inv *invoice) allowed() (sales, tax int64) {
	for _, a := range inv.allowances() {
		if !a.Voided {
			sales, tax = sales+a.Sales, tax+a.Tax
		}
	}
	return sales, tax
}

// clone returns the invoice without its document, which LoadDocuments
// reads.
func (inv *invoice) clone() Invoice {
	c := Invoice{InvoiceIssued: domain.InvoiceIssued{Number: inv.Number, Period: inv.Period, AccountID: inv.AccountID,
		Month: inv.Month, TopUpRef: inv.TopUpRef, Kind: inv.Kind, BuyerName: inv.BuyerName, BuyerTaxID: inv.BuyerTaxID,
		Sales: inv.Sales, Tax: inv.Tax, Total: inv.Total, IssuedAt: inv.IssuedAt, Seq: int(inv.Seq), Covers: inv.Covers.Decimal(),
		Usage: slices.Clone(inv.Usage), TopUps: slices.Clone(inv.TopUps), UploadBy: inv.UploadBy},
		EventID: inv.EventID, Voided: inv.Voided, version: int64(inv.version), at: inv.at, summary: true}
	if ch := inv.changes; ch != nil {
		c.VoidReason, c.VoidedAt, c.Allowances = ch.voidReason, ch.voidedAt, slices.Clone(ch.allowances)
		if ch.special != nil {
			sv := *ch.special
			c.Special = &sv
		}
		c.Replaces = slices.Clone(ch.replaces)
		c.Less, c.VoidLess = ch.less, ch.voidLess
	}
	return c
}

// Quote is a quotation and, once accepted, its contract.
type Quote struct {
	domain.QuoteIssued
	Accepted bool
	Contract *domain.ContractIssued
	// ContractAt is when the contract was issued (its signing date).
	ContractAt time.Time
	// Withdrawal is set once the quote is withdrawn (or replaced, when
	// it names the quote issued in its place), at WithdrawnAt.
	Withdrawal  *domain.QuoteWithdrawn
	WithdrawnAt time.Time
	// Status is where the quote stands when it was read (QuoteStatus).
	Status  QuoteStatus
	version int64
}

// account is what invoices need of an account: the buyer, the plan and
// its paid top-ups. One is kept for every account of the history, so the
// buyer's rarer facts live apart, in buyer. An account not opened yet that
// has top-ups is a stray (ledger.strays) until it opens, in the same record.
type account struct {
	ID           string
	Organisation string
	Plan         domain.Plan
	buyer        *buyerExtra // nil while the account has no 統一編號, carrier or donation code
	topUps       topUpList
	credit       *credit // nil while the account has had no top-up, adjustment or postpaid usage
	// dirty is the generation of the latest mark that the account's top-ups
	// may need an invoice (ledger.markTopUps); 0: none.
	dirty uint64
}

// buyerExtra holds the buyer's facts besides its name, which most
// accounts lack.
type buyerExtra struct {
	taxID        string
	carrier      string // B2C carrier (載具), see domain.InvoiceCarrierSet
	donationCode string // B2C donation code (愛心碼)
}

// extra returns the buyer's facts; a nil account has none.
func (a *account) extra() buyerExtra {
	if a == nil || a.buyer == nil {
		return buyerExtra{}
	}
	return *a.buyer
}

// setExtra stores the buyer's facts, dropping buyer when they are all empty.
func (a *account) setExtra(x buyerExtra) {
	if x == (buyerExtra{}) {
		a.buyer = nil
		return
	}
	a.buyer = &x
}

// TaxID is the buyer's 統一編號 ("" for none).
func (a *account) TaxID() string { return a.extra().taxID }

// Carrier is the account's B2C carrier (載具).
func (a *account) Carrier() string { return a.extra().carrier }

// DonationCode is the account's B2C donation code (愛心碼).
func (a *account) DonationCode() string { return a.extra().donationCode }

// credit is what an account's balance is made of, by who pays for it, so
// that every NT$ received is invoiced once and every NT$ used is paid for
// by one thing (docs/invoicing-ledger.md):
//
//   - paid: payments invoiced when received (a payment beyond what was
//     due: services are invoiced at payment);
//   - free: credit given by adjustment, which no invoice bills;
//   - due: postpaid usage beyond the credit, billed monthly and not yet
//     paid: a payment pays it first and is not invoiced for it again;
//   - overdrawn: prepaid usage beyond the credit, which the next payment
//     pays and whose invoice bills;
//   - returned: money paid for usage that an allowance took off its
//     invoice, credited back by finance: no live invoice bills it, so it
//     pays what is due, never invoiced at payment, and the monthly
//     invoices bill the usage it pays. Prepaid usage is on no monthly
//     invoice: what of it pays prepaid usage overdrawn, and all of it on a
//     prepaid plan, is invoiced as a payment (ledger.invoiceReturned);
//   - rounding: what the monthly invoices bill beyond the usage they bill
//     (rounded to whole NTD; less for an invoice rounded down) that no
//     payment has paid: what is due plus rounding is what they bill
//     unpaid. It is no part of the balance: an allowance that takes it
//     off an invoice takes off no money paid (credit.allow).
//
// The balance is paid + free + returned − due − overdrawn. Prepaid usage draws free
// credit first, so that what was invoiced at payment lasts; postpaid usage
// draws paid credit only and is invoiced monthly beyond it, so that a
// change of plan never invoices the same money twice, nor leaves any
// uninvoiced.
type credit struct {
	paid, free, due, overdrawn, returned projections.Amount // exact, without a big.Int while they fit an int64
	// rounding is nil until a monthly invoice bills the account: prepaid
	// accounts, most of a history, keep the record at its size (addRounding).
	rounding *projections.Amount
}

// unpaidRounding is credit.rounding, zero while nil.
func (c *credit) unpaidRounding() projections.Amount {
	if c.rounding == nil {
		return projections.Amount{}
	}
	return *c.rounding
}

// addRounding adds r to credit.rounding.
func (c *credit) addRounding(r projections.Amount) {
	if c.rounding == nil {
		if r.Sign() == 0 {
			return
		}
		c.rounding = new(projections.Amount)
	}
	*c.rounding = c.rounding.Plus(r)
}

// use draws a request's cost, positive (account.useCredit). It returns what
// is left to invoice monthly: on a postpaid plan, what paid credit did not
// cover; on a prepaid plan, nothing. It allocates nothing while the amounts
// fit an int64: prepaid requests are most of a history.
func (c *credit) use(cost projections.Amount, postpaid bool) (toInvoice projections.Amount) {
	if !postpaid && c.free.Sign() > 0 {
		t := minAmount(c.free, cost)
		c.free, cost = c.free.Minus(t), cost.Minus(t)
	}
	if c.paid.Sign() > 0 && cost.Sign() > 0 {
		t := minAmount(c.paid, cost)
		c.paid, cost = c.paid.Minus(t), cost.Minus(t)
	}
	if cost.Sign() <= 0 {
		return projections.Amount{}
	}
	if postpaid {
		c.due = c.due.Plus(cost)
		c.settleReturned()
		return cost
	}
	c.overdrawn = c.overdrawn.Plus(cost)
	return projections.Amount{}
}

// pay takes a payment received. What pays usage billed monthly is not
// invoiced again: what the monthly invoices bill unpaid (what is due and
// their rounding), with the usage not billed yet rounded half-up to whole
// NTD as its invoice will bill it, so that paying invoices exactly leaves
// nothing to invoice, however their roundings add up; the part of a NT$
// their rounding billed beyond the usage is paid credit. The rest is
// returned, to be invoiced as a top-up, and pays any overdrawn prepaid
// usage before it becomes paid credit.
func (c *credit) pay(amt projections.Amount) (toInvoice projections.Amount) {
	if c.due.Sign() > 0 {
		billed := projections.AmountOf(decimal.Max(c.due.Plus(c.unpaidRounding()).Decimal().Round(0), decimal.Zero))
		t := minAmount(billed, amt)
		if t.Cmp(c.due) >= 0 {
			c.paid = c.paid.Plus(t.Minus(c.due))
			c.addRounding(c.due.Minus(t))
			c.due = projections.Amount{}
		} else {
			c.due = c.due.Minus(t)
		}
		amt = amt.Minus(t)
	}
	toInvoice = amt
	t := minAmount(c.overdrawn, amt)
	c.overdrawn, amt = c.overdrawn.Minus(t), amt.Minus(t)
	c.paid = c.paid.Plus(amt)
	return toInvoice
}

// settleReturned pays what is due, as far as the monthly invoices bill it
// (billedDue), with money returned: it is not credit given, and the
// monthly invoices bill that usage, as no live invoice bills the money
// any more. Returned money is only ever left while nothing billed is due.
func (c *credit) settleReturned() {
	if due := c.billedDue(); c.returned.Sign() > 0 && due.Sign() > 0 {
		t := minAmount(c.returned, due)
		c.returned, c.due = c.returned.Minus(t), c.due.Minus(t)
	}
}

// adjust adds a correction of the balance. A positive one is credit given:
// it pays overdrawn prepaid usage, then is free credit (never invoiced;
// usage already billed is forgiven by an allowance, not here). A negative
// one takes free credit, then money returned, then paid credit (a refund),
// then overdraws: it returns what it took besides free credit.
func (c *credit) adjust(d decimal.Decimal) (took taken) {
	amt := projections.AmountOf(d)
	if amt.Sign() > 0 {
		t := minAmount(c.overdrawn, amt)
		c.overdrawn, amt = c.overdrawn.Minus(t), amt.Minus(t)
		c.free = c.free.Plus(amt)
		return taken{}
	}
	take := projections.Amount{}.Minus(amt)
	t := minAmount(c.free, take)
	c.free, take = c.free.Minus(t), take.Minus(t)
	// Money returned on no invoice goes back with no allowance to ask.
	took.returned = minAmount(c.returned, take)
	c.returned, take = c.returned.Minus(took.returned), take.Minus(took.returned)
	took.paid = minAmount(c.paid, take)
	c.paid, take = c.paid.Minus(took.paid), take.Minus(took.paid)
	took.overdrawn = take
	c.overdrawn = c.overdrawn.Plus(take)
	return took
}

// taken is what a negative adjustment took besides free credit: money
// returned, paid credit (refunded) and what it overdrew. The ledger keeps
// it for an adjustment that took money (ledger.taken), so that its
// reversal puts that back rather than give credit.
type taken struct {
	returned, paid, overdrawn projections.Amount
}

// adjustmentKey names an adjustment: its account and event ID.
type adjustmentKey struct {
	acct string
	id   uuid.UUID
}

// money reports whether t took money returned or paid.
func (t taken) money() bool { return t.returned.Sign() > 0 || t.paid.Sign() > 0 }

// allow takes an allowance on a monthly invoice off what is due: the
// invoice no longer bills it, so no payment may pay it uninvoiced. It stays
// owed as overdrawn, until credit given (finance's correction of the
// balance for the allowance) or a payment, invoiced, pays it. What it takes
// off beyond what is due was paid already, but for the rounding its
// invoices bill unpaid (credit.rounding): the customer is owed it back
// (allowedDebt.claim), and finance's credit for it returns money paid, not
// credit given. Credit given before the allowance pays it at once, as
// credit given after it would: the order of finance's two steps changes
// nothing. It returns what it moved and what of it was paid, which the
// allowance's void moves back; the rest, amt less both, was unpaid
// rounding.
func (c *credit) allow(amt projections.Amount, d *allowedDebt) (moved, paid projections.Amount) {
	moved = minAmount(c.billedDue(), amt)
	c.due, c.overdrawn = c.due.Minus(moved), c.overdrawn.Plus(moved)
	d.owed = d.owed.Plus(moved)
	given := minAmount(c.free, moved)
	c.free, c.overdrawn = c.free.Minus(given), c.overdrawn.Minus(given)
	d.paidOverdrawn(given, false)
	paid = amt.Minus(moved)
	if u := c.unpaidRounding(); u.Sign() > 0 {
		r := minAmount(u, paid)
		c.addRounding(projections.Amount{}.Minus(r))
		paid = paid.Minus(r)
	}
	d.claim = d.claim.Plus(paid)
	c.returnCredit(c.free, d)
	return moved, paid
}

// billedDue is what of the due the monthly invoices bill: less the usage
// that invoices rounded down and never bill (a negative credit.rounding),
// which nobody owes, so that an allowance never takes it for money still
// to collect. NT$5.1345 of usage billed NT$5 and paid NT$5 leaves nothing
// billed due: an allowance of NT$1 then takes off NT$1 paid.
func (c *credit) billedDue() projections.Amount {
	if u := c.unpaidRounding(); u.Sign() < 0 {
		if b := c.due.Plus(u); b.Sign() > 0 {
			return b
		}
		return projections.Amount{}
	}
	return c.due
}

// giveBack takes credit given while allowances on usage already paid left
// the customer owed money back (allowedDebt.claim). It pays what
// allowances left owed first, as credit given (allow). Then, as far as the
// claim goes, it is money returned, the customer's own: it pays what else
// is overdrawn (prepaid usage) as a payment would, so that part is invoiced
// as a payment is (toInvoice), and the rest is returned credit. rest is
// what is left of amt beyond the claim: credit given.
func (c *credit) giveBack(amt projections.Amount, d *allowedDebt) (toInvoice, rest projections.Amount) {
	owed := minAmount(minAmount(d.owed, c.overdrawn), amt)
	c.overdrawn, amt = c.overdrawn.Minus(owed), amt.Minus(owed)
	d.paidOverdrawn(owed, false)
	r := minAmount(d.claim, amt)
	d.claim, d.returned = d.claim.Minus(r), d.returned.Plus(r)
	toInvoice = minAmount(c.overdrawn, r)
	c.overdrawn = c.overdrawn.Minus(toInvoice)
	c.returned = c.returned.Plus(r.Minus(toInvoice))
	c.settleReturned()
	return toInvoice, amt.Minus(r)
}

// returnCredit turns up to amt of free credit into money returned, as
// much as allowances on usage already paid left the customer owed back.
func (c *credit) returnCredit(amt projections.Amount, d *allowedDebt) {
	t := minAmount(minAmount(d.claim, amt), c.free)
	if t.Sign() <= 0 {
		return
	}
	d.claim, d.returned = d.claim.Minus(t), d.returned.Plus(t)
	c.free, c.returned = c.free.Minus(t), c.returned.Plus(t)
	c.settleReturned()
}

// disallow undoes allow for a voided allowance: the invoice bills again
// what the allowance moved, so it is due again, all of it. What is still
// owed of it stops being overdrawn. What was paid since is no longer paid
// by it: a payment invoiced at payment becomes paid credit again (else that
// payment and the invoice would both bill it), and credit given becomes
// free credit again. What it took off usage already paid is owed back no
// more (unreturn), and the rounding it took off is billed unpaid again.
// The balance does not change.
func (c *credit) disallow(moved, alreadyPaid, rounding projections.Amount, d *allowedDebt) {
	c.addRounding(rounding)
	owed := minAmount(minAmount(d.owed, c.overdrawn), moved)
	d.owed, c.overdrawn = d.owed.Minus(owed), c.overdrawn.Minus(owed)
	rest := moved.Minus(owed)
	paid := minAmount(d.byPayment, rest)
	d.byPayment, c.paid = d.byPayment.Minus(paid), c.paid.Plus(paid)
	free := minAmount(d.byCredit, rest.Minus(paid))
	d.byCredit, c.free = d.byCredit.Minus(free), c.free.Plus(free)
	c.due = c.due.Plus(owed).Plus(paid).Plus(free)
	c.unreturn(alreadyPaid, d)
	c.settleReturned()
}

// unreturn undoes what an allowance on usage already paid left owed back:
// what is still owed is no longer; money returned for it is credit given
// again, and what of it paid usage since leaves that usage due, paid by
// credit given. The balance does not change.
func (c *credit) unreturn(alreadyPaid projections.Amount, d *allowedDebt) {
	claimed := minAmount(d.claim, alreadyPaid)
	d.claim = d.claim.Minus(claimed)
	back := minAmount(d.returned, alreadyPaid.Minus(claimed))
	d.returned = d.returned.Minus(back)
	left := minAmount(c.returned, back)
	spent := back.Minus(left)
	c.returned, c.free = c.returned.Minus(left), c.free.Plus(left).Plus(spent)
	c.due = c.due.Plus(spent)
}

// allowedDebt is what an account's allowances on monthly invoices moved
// from due to overdrawn, and what paid it since: payments (invoiced at
// payment) and credit given. Overdrawn also holds prepaid usage; a payment
// or credit pays the allowed part first. Kept only for accounts with such
// allowances (ledger.allowed).
type allowedDebt struct {
	owed, byPayment, byCredit projections.Amount
	// claim is what allowances took off usage already paid and finance
	// has not credited back yet; returned is what it has.
	claim, returned projections.Amount
}

// paidOverdrawn records that overdrawn went down by paid, paid by a payment
// or by credit given.
func (d *allowedDebt) paidOverdrawn(paid projections.Amount, byPayment bool) {
	if d == nil || paid.Sign() <= 0 {
		return
	}
	t := minAmount(d.owed, paid)
	d.owed = d.owed.Minus(t)
	if byPayment {
		d.byPayment = d.byPayment.Plus(t)
	} else {
		d.byCredit = d.byCredit.Plus(t)
	}
}

// minAmount is the smaller of two amounts.
func minAmount(a, b projections.Amount) projections.Amount {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

// scanCost reads the cost of a request.completed event without decoding
// the rest: prepaid usage is most of a history, and invoicing needs only
// what it draws from the account's credit. An unreadable cost is zero.
func scanCost(data []byte) projections.Amount {
	var raw []byte
	jsonscan.Members(data, func(m jsonscan.Member) {
		if string(m.Key) == "cost" {
			raw = m.Value
		}
	})
	if len(raw) >= 2 && raw[0] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	if a, ok := projections.ParseAmount(raw); ok {
		return a
	}
	d, err := decimal.NewFromString(string(raw))
	if err != nil {
		return projections.Amount{}
	}
	return projections.AmountOf(d)
}

// creditOf returns the account's credit record, made on first use.
func (a *account) creditOf() *credit {
	if a.credit == nil {
		a.credit = &credit{}
	}
	return a.credit
}

// useCredit draws a request's cost from the account's credit (see
// credit.use); a request of no cost makes no credit record.
func (a *account) useCredit(cost projections.Amount, postpaid bool) (toInvoice projections.Amount) {
	if cost.Sign() <= 0 {
		return projections.Amount{}
	}
	return a.creditOf().use(cost, postpaid)
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

// topUp is a payment, or what of it is invoiced at payment: all of a
// prepaid account's top-up, what a postpaid account pays beyond its usage
// billed monthly (credit.pay); Amount is that part. Its account is the one
// whose list holds it. One is kept for every top-up of
// the history: 64 bytes, its month and place in 8 of them.
type topUp struct {
	Reference string
	Amount    projections.Amount
	cover     *invoice // the live invoice that bills it, if any
	next      *topUp   // the account's next top-up
	month     int32    // Taipei month of payment, as monthIndex gives it
	order     uint32   // place among all top-ups folded
}

// Month is the top-up's Taipei month of payment (YYYY-MM).
func (t *topUp) Month() string { return monthName(t.month) }

// monthIndex is the Taipei month of an instant as a count of months from
// the year 0; monthName gives back what monthOf gives for that instant.
func monthIndex(t time.Time) int32 {
	tt := t.In(twrules.Taipei)
	return int32(tt.Year())*12 + int32(tt.Month()) - 1
}

func monthName(m int32) string {
	y, mo := m/12, m%12
	if mo < 0 { // floored, for years before 0
		y, mo = y-1, mo+12
	}
	return time.Date(int(y), time.Month(mo+1), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

// topUpList is an account's paid top-ups in the order folded, linked
// through topUp.next: kept in the account, a list costs no map entry of its
// own (a map of slices by account took about 5 MB for 100,000 accounts).
type topUpList struct{ first, last *topUp }

func (tl *topUpList) add(t *topUp) {
	if tl.last == nil {
		tl.first = t
	} else {
		tl.last.next = t
	}
	tl.last = t
}

// all yields the top-ups in order; a nil list has none.
func (tl *topUpList) all() iter.Seq[*topUp] {
	return func(yield func(*topUp) bool) {
		if tl == nil {
			return
		}
		for t := tl.first; t != nil; t = t.next {
			if !yield(t) {
				return
			}
		}
	}
}

// bill is what the invoices of one account's month of usage, or of its
// top-ups, have billed: the cumulative figures the next invoice starts from.
type bill struct {
	invoices []*invoice      // in order of fold, voided ones too
	covers   decimal.Decimal // Σ Covers of the live invoices
	totals   int64           // Σ Total of the live invoices
	next     int             // Seq of the next invoice
	unbilled []*invoice      // voided and not billed again (unbilledVoids)
	// less is what voids took off the month's re-issue (InvoiceVoided.Less)
	// and no live invoice carries yet: the next invoice of the month bills
	// that much less (InvoiceIssued.Less). carried is what the live
	// invoices carry: with their totals, what the month's rounding rule
	// gave them.
	less, carried int64
}

func (b *bill) add(inv *invoice) {
	b.invoices = append(b.invoices, inv)
	b.covers = b.covers.Add(inv.Covers.Decimal())
	b.totals += inv.Total
	b.next = max(b.next, int(inv.Seq)+1)
	if inv.TopUpRef == "" {
		b.unbilled = nil // a month's invoice bills all its usage that no live invoice does
		b.less -= inv.carried()
		b.carried += inv.carried()
		return
	}
	// A top-up invoice bills again the voids whose top-ups it bills: a
	// re-issue bills one void's, and a later payment's invoice none.
	b.unbilled = slices.DeleteFunc(b.unbilled, func(v *invoice) bool { return sharesTopUp(v, inv.TopUps, inv.TopUpRef) })
}

func (b *bill) remove(inv *invoice) {
	b.covers = b.covers.Sub(inv.Covers.Decimal())
	b.totals -= inv.Total
	b.unbilled = append(b.unbilled, inv)
	b.less += inv.carried()
	b.carried -= inv.carried()
}

// unbilledVoids are a bill's invoices voided and not billed again, in the
// store's order: what they billed is on no invoice yet. A monthly invoice
// issued after a void billed everything no live invoice did, the voided
// one's amount included; voided in turn, it is the one to replace. A
// top-up invoice bills again the voids whose top-ups it bills.
func (b *bill) unbilledVoids() []*invoice {
	if b == nil {
		return nil
	}
	return b.unbilled
}

// invoicesOrNil lists a bill's invoices, none for a nil bill.
func (b *bill) invoicesOrNil() []*invoice {
	if b == nil {
		return nil
	}
	return b.invoices
}

// live returns the bill's invoices that are not voided.
func (b *bill) live() []*invoice {
	var out []*invoice
	if b != nil {
		for _, inv := range b.invoices {
			if !inv.Voided {
				out = append(out, inv)
			}
		}
	}
	return out
}

// rangeState is the fold of a period's range stream.
type rangeState struct {
	rngs     twrules.Ranges // in order of assignment
	assigned bool
	last     int64      // last stream version, -1: no stream
	count    int64      // numbers taken: through the highest an invoice of the stream carries, and numbers skipped
	skipped  int64      // numbers taken out of use (InvoiceNumbersSkipped)
	passed   [][2]int64 // counts (first, last) that no invoice carries below count: blank numbers
	latest   time.Time  // the latest date of issue of those invoices
	// withdrawn are the ranges taken back (InvoiceRangeWithdrawn), in
	// order: out of rngs, they number nothing and are never blank.
	withdrawn []WithdrawnRange
	changes   int // assignments and withdrawals folded
}

// withdrawals counts how often r was withdrawn: the ID of its next
// assignment or withdrawal, so that the store does not take one for a
// retry of the last.
func (st *rangeState) withdrawals(r twrules.Range) int {
	n := 0
	for _, w := range st.withdrawn {
		if w.Range == r {
			n++
		}
	}
	return n
}

// ledger is what invoicing knows of the history, folded from the store.
type ledger struct {
	pos      eventstore.Position
	accounts map[string]*account
	// usage is postpaid usage (the account's plan at the time of the
	// request), by model in order of first use: what monthly invoices bill.
	usage  map[acctMonth][]modelUsage
	months map[acctMonth]*bill // monthly invoices of usage
	// An account's prepaid top-ups are listed in its account (strays:
	// accounts not opened yet that have top-ups); topUpBills are their
	// invoices; topUpCover which live invoice bills a reference whose
	// top-up is not folded yet (an invoice read before its top-up): once
	// folded, the top-up holds its invoice itself.
	strays     map[string]*account
	topUpBills map[string]*bill
	topUpCover map[string]*invoice // account \x00 reference → invoice
	// refunded is the paid credit each account was given back (rare);
	// taken what each negative adjustment that took money took, by its
	// event ID, until a reversal puts it back (rarer).
	refunded map[string]decimal.Decimal
	taken    map[adjustmentKey]taken
	// allowed is what allowances on monthly invoices moved of each
	// account's due (rare: only accounts with such allowances).
	allowed map[string]*allowedDebt
	// dirty lists the accounts marked as having top-ups that may need an
	// invoice (a new top-up, a void): those whose account.dirty is not 0,
	// each once, with others that have been cleared since (dropped by
	// clearDirty). The mark is a generation, so that a mark made while
	// invoicing survives it.
	dirty      []*account
	dirtyGen   uint64
	topUpCount uint32
	// strs holds one copy of the model names and months that every usage
	// event repeats.
	strs     map[string]string
	ranges   map[string]*rangeState // by period
	byNumber map[string]*invoice    // the latest invoice of a number (letters recycle across periods)
	reused   map[string]bool        // numbers issued in more than one period
	byAllow  map[string]*invoice    // allowance number → invoice
	invoices []*invoice             // in order of issue
	quotes   map[string]*Quote
	contract map[string]*Quote // contract ID → quote
	filing   map[string]*filed // document key → what Turnkey reported (outbox.go)
}

func newLedger() *ledger {
	return &ledger{
		accounts: map[string]*account{}, usage: map[acctMonth][]modelUsage{}, strs: map[string]string{},
		months: map[acctMonth]*bill{}, strays: map[string]*account{}, topUpBills: map[string]*bill{},
		topUpCover: map[string]*invoice{}, refunded: map[string]decimal.Decimal{}, taken: map[adjustmentKey]taken{}, allowed: map[string]*allowedDebt{}, ranges: map[string]*rangeState{},
		byNumber: map[string]*invoice{}, reused: map[string]bool{}, byAllow: map[string]*invoice{}, quotes: map[string]*Quote{},
		contract: map[string]*Quote{}, filing: map[string]*filed{},
	}
}

// monthlyEventID and topUpEventID are the deterministic IDs of invoices: a
// retried or concurrent issue of the same invoice is stored once. The first
// invoice of a month keeps the ID it always had.
func monthlyEventID(acct, month string, seq int) uuid.UUID {
	if seq == 0 {
		return domain.EventID(domain.TypeInvoiceIssued, "monthly", acct, month)
	}
	return domain.EventID(domain.TypeInvoiceIssued, "monthly", acct, month, strconv.Itoa(seq))
}

func topUpEventID(acct string, seq int) uuid.UUID {
	return domain.EventID(domain.TypeInvoiceIssued, "topup", acct, "#"+strconv.Itoa(seq))
}

func coverKey(acct, ref string) string { return acct + "\x00" + ref }

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
		domain.TypeCreditsAdjusted, domain.TypeInvoiceCarrierSet, domain.TypeDetailsChanged:
	default:
		return nil // nothing invoicing needs
	}
	if e.Type == domain.TypeRequestCompleted {
		// A request's event lives in its account's usage stream. A prepaid
		// account's usage is not invoiced (its top-ups are), so its events,
		// most of a gateway's history, are passed over undecoded: decoding
		// them all made invoicing's first fold of a long history allocate
		// tens of megabytes a second beside the running gateway.
		if acct, ok := strings.CutPrefix(e.Stream, domain.UsageStream("")); ok {
			if a := l.accounts[acct]; a == nil || !a.Plan.Postpaid() {
				if a != nil {
					a.useCredit(scanCost(e.Data), false) // only its cost is read
				}
				return nil
			}
		}
	}
	ev, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	switch b := ev.(type) {
	case *domain.AccountOpened:
		// An account opened again keeps its top-ups, and only them: its
		// carrier and donation code are the new opening's (none).
		a := l.accounts[b.AccountID]
		if a == nil {
			if a = l.strays[b.AccountID]; a != nil {
				delete(l.strays, b.AccountID)
			} else {
				a = &account{ID: b.AccountID}
			}
			l.accounts[b.AccountID] = a
		}
		a.Organisation, a.Plan = b.Organisation, domain.Plan(l.str(string(b.Plan)))
		a.setExtra(buyerExtra{taxID: b.TaxID})
	case *domain.PlanChanged:
		if a, ok := l.accounts[b.AccountID]; ok {
			a.Plan = domain.Plan(l.str(string(b.Plan)))
			l.invoiceReturned(a, e, projections.Amount{})
		}
	case *domain.AccountDetailsChanged:
		// The buyer of the invoices issued from now on; issued ones keep
		// theirs. B2C invoices still go to the carrier the account set.
		if a, ok := l.accounts[b.AccountID]; ok {
			x := a.extra()
			a.Organisation, x.taxID = b.Organisation, b.TaxID
			a.setExtra(x)
		}
	case *domain.InvoiceCarrierSet:
		if a, ok := l.accounts[b.AccountID]; ok {
			x := a.extra()
			x.carrier, x.donationCode = b.Carrier, b.DonationCode
			if b.TaxID != nil {
				x.taxID = *b.TaxID
			}
			a.setExtra(x)
		}
	case *domain.RequestCompleted:
		a := l.accounts[b.AccountID]
		if a == nil || !a.Plan.Postpaid() {
			if a != nil {
				a.useCredit(projections.AmountOf(b.Cost), false) // prepaid usage: its top-ups are what is invoiced
			}
			return nil
		}
		// Credit invoiced when it was paid pays first.
		cost := b.Cost
		if cost.IsPositive() {
			if cost = a.useCredit(projections.AmountOf(b.Cost), true).Decimal(); !cost.IsPositive() {
				return nil
			}
		}
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
		u.Cost = u.Cost.Add(cost)
	case *domain.CreditsAdjusted:
		if a := l.accounts[b.AccountID]; a != nil {
			// A reversal is of an adjustment of its own account.
			if k := (adjustmentKey{a.ID, b.Reverses}); b.Reverses != uuid.Nil && l.taken[k] != (taken{}) {
				t := l.taken[k]
				delete(l.taken, k)
				l.invoiceReturned(a, e, l.putBack(a, t, b.Amount))
				return nil
			}
			took, toInvoice := l.adjust(a, b.Amount)
			if took.money() {
				l.taken[adjustmentKey{a.ID, e.ID}] = took
			}
			l.invoiceReturned(a, e, toInvoice)
		}
	case *domain.CreditsToppedUp:
		a := l.accounts[b.AccountID]
		if b.Method != domain.MethodCard && b.Method != domain.MethodBankTransfer {
			if a != nil {
				_, toInvoice := l.adjust(a, b.Amount)
				l.invoiceReturned(a, e, toInvoice) // credit given, not paid for
			}
			return nil
		}
		if a == nil {
			if a = l.strays[b.AccountID]; a == nil {
				a = &account{ID: b.AccountID}
				l.strays[a.ID] = a
			}
		}
		// What pays usage already billed monthly is not invoiced again; the
		// rest is invoiced now, on either plan.
		amt := projections.AmountOf(b.Amount)
		if amt.Sign() > 0 {
			if amt = l.pay(a, amt); amt.Sign() <= 0 {
				return nil
			}
		}
		l.addTopUp(a, b.Reference, amt, e.OccurredAt)
	}
	return nil
}

// addTopUp lists what of a payment received at at is invoiced at payment,
// amt, under its reference: billed by an invoice folded before it, if any,
// else marked for its invoice.
func (l *ledger) addTopUp(a *account, ref string, amt projections.Amount, at time.Time) {
	acct := a.ID
	l.topUpCount++
	t := &topUp{Reference: ref, Amount: amt, month: monthIndex(at), order: l.topUpCount}
	a.topUps.add(t)
	inv := l.topUpCover[coverKey(acct, ref)]
	delete(l.topUpCover, coverKey(acct, ref))
	if inv != nil && !inv.Voided {
		t.cover = inv
		if inv.TopUpRef == ref && len(inv.TopUps) == 0 && inv.Covers.Sign() == 0 {
			l.coverLegacyTopUp(inv, acct, t) // a legacy invoice folded before its top-up
		}
	} else {
		l.markTopUps(acct)
	}
}

// invoiceReturned invoices money returned at e as a payment received then:
// toInvoice, what of it paid prepaid usage overdrawn (credit.giveBack), and
// all the money returned an account on a prepaid plan holds (moved to one,
// or credited on one). Prepaid usage is on no monthly invoice, so that
// money would otherwise pay usage that no invoice bills. Like a top-up's,
// it pays what is overdrawn first, and the rest is paid credit. Nothing is
// due while money is returned (credit.settleReturned), so all of it is
// invoiced.
func (l *ledger) invoiceReturned(a *account, e *eventstore.RecordedEvent, toInvoice projections.Amount) {
	if a == nil {
		return
	}
	if c := a.credit; c != nil && !a.Plan.Postpaid() && c.returned.Sign() > 0 {
		amt := c.returned
		c.returned = projections.Amount{}
		toInvoice = toInvoice.Plus(l.pay(a, amt))
	}
	if toInvoice.Sign() > 0 {
		// Named by the event that returned the money, as a replay names it.
		l.addTopUp(a, "returned-"+e.ID.String(), toInvoice, e.OccurredAt)
	}
}

// pay takes a payment into the account's credit (credit.pay), noting what
// of it paid allowed usage.
func (l *ledger) pay(a *account, amt projections.Amount) (toInvoice projections.Amount) {
	c := a.creditOf()
	before := c.overdrawn
	toInvoice = c.pay(amt)
	l.allowed[a.ID].paidOverdrawn(before.Minus(c.overdrawn), true)
	return toInvoice
}

// adjust takes a correction of the balance into the account's credit
// (credit.adjust), noting what of it paid allowed usage and what paid
// credit it gave back. It returns what of it is money returned that paid
// prepaid usage, to invoice.
func (l *ledger) adjust(a *account, d decimal.Decimal) (took taken, toInvoice projections.Amount) {
	took, toInvoice = adjustCredit(a.creditOf(), l.allowed[a.ID], d)
	l.refund(a, took.paid)
	return took, toInvoice
}

// putBack takes a reversal, of amount d, of a negative adjustment that took
// t: in the reverse order of the taking, it pays back what that overdrew
// (credit given, as the adjustment was), then gives back the paid credit
// as a payment that its top-up invoice billed already, then the money
// returned, then the free credit. As far as usage since has drawn the
// credit, the paid credit pays what is now overdrawn (still billed by its
// top-up invoice) or due; what pays usage billed monthly stays refunded,
// as both invoices bill it. It returns what is to be invoiced as a payment
// (credit.giveBack, invoiceReturned).
func (l *ledger) putBack(a *account, t taken, d decimal.Decimal) (toInvoice projections.Amount) {
	c := a.creditOf()
	rest := projections.AmountOf(d).Minus(t.returned).Minus(t.paid)
	over := minAmount(t.overdrawn, rest)
	if over.Sign() > 0 {
		_, toInvoice = l.adjust(a, over.Decimal())
	}
	if t.paid.Sign() > 0 {
		due := minAmount(c.due, t.paid)
		back := t.paid.Minus(due)
		over := minAmount(c.overdrawn, back)
		c.due, c.overdrawn, c.paid = c.due.Minus(due), c.overdrawn.Minus(over), c.paid.Plus(back.Minus(over))
		l.allowed[a.ID].paidOverdrawn(over, true)
		if r := l.refunded[a.ID].Sub(back.Decimal()); r.IsPositive() {
			l.refunded[a.ID] = r
		} else {
			delete(l.refunded, a.ID)
		}
	}
	if t.returned.Sign() > 0 {
		c.returned = c.returned.Plus(t.returned)
		c.settleReturned()
	}
	if free := rest.Minus(over); free.Sign() > 0 {
		_, more := l.adjust(a, free.Decimal())
		toInvoice = toInvoice.Plus(more)
	}
	return toInvoice
}

// adjustCredit takes a correction of the balance into c (credit.adjust),
// noting in debt (nil when the account has no allowance on a monthly
// invoice) what of it paid allowed usage and what returned money paid for
// usage an allowance took off. It returns what a negative one took
// (taken.paid: the paid credit given back), and what of the money returned
// paid prepaid usage overdrawn, to invoice as a payment would be
// (credit.giveBack).
func adjustCredit(c *credit, debt *allowedDebt, d decimal.Decimal) (took taken, toInvoice projections.Amount) {
	if debt != nil && d.IsPositive() && debt.claim.Sign() > 0 {
		var rest projections.Amount
		toInvoice, rest = c.giveBack(projections.AmountOf(d), debt)
		if d = rest.Decimal(); d.IsZero() {
			return taken{}, toInvoice
		}
	}
	before, free := c.overdrawn, c.free
	took = c.adjust(d)
	debt.paidOverdrawn(before.Minus(c.overdrawn), false)
	if debt != nil && c.free.Cmp(free) > 0 {
		c.returnCredit(c.free.Minus(free), debt) // money paid, credited back for an allowance
	}
	return took, toInvoice
}

// refund records paid credit given back, which its top-up invoices still
// bill until an allowance takes it off them (see Reconciliation.Refunds).
func (l *ledger) refund(a *account, amt projections.Amount) {
	if amt.Sign() > 0 {
		l.refunded[a.ID] = l.refunded[a.ID].Add(amt.Decimal())
	}
}

// markTopUps marks an account as having top-ups that may need an invoice.
// An account with no top-ups (no record either) has none to invoice: there
// is nothing to mark.
func (l *ledger) markTopUps(acct string) {
	a := l.topUpAccount(acct)
	if a == nil {
		return
	}
	if a.dirty == 0 {
		l.dirty = append(l.dirty, a)
	}
	l.dirtyGen++
	a.dirty = l.dirtyGen
}

// clearDirty drops the accounts no longer marked from the list of marked
// ones.
func (l *ledger) clearDirty() {
	l.dirty = slices.DeleteFunc(l.dirty, func(a *account) bool { return a.dirty == 0 })
	if len(l.dirty) == 0 {
		l.dirty = nil // the catch-up's marks may have been many: let them go
	}
}

// topUpAccount returns the record that lists an account's top-ups, opened
// or stray (nil when it has none).
func (l *ledger) topUpAccount(acct string) *account {
	if a := l.accounts[acct]; a != nil {
		return a
	}
	return l.strays[acct]
}

// topUpsOf returns an account's top-ups (nil when it has none).
func (l *ledger) topUpsOf(acct string) *topUpList {
	if a := l.topUpAccount(acct); a != nil {
		return &a.topUps
	}
	return nil
}

// topUpLists yields every account that has top-ups, with its list.
func (l *ledger) topUpLists() iter.Seq2[string, *topUpList] {
	return func(yield func(string, *topUpList) bool) {
		for id, a := range l.accounts {
			if a.topUps.first != nil && !yield(id, &a.topUps) {
				return
			}
		}
		for id, st := range l.strays {
			if !yield(id, &st.topUps) {
				return
			}
		}
	}
}

// findTopUp returns an account's top-up by reference.
func (l *ledger) findTopUp(acct, ref string) *topUp {
	for t := range l.topUpsOf(acct).all() {
		if t.Reference == ref {
			return t
		}
	}
	return nil
}

func (l *ledger) topUpBill(acct string) *bill {
	b := l.topUpBills[acct]
	if b == nil {
		b = &bill{}
		l.topUpBills[acct] = b
	}
	return b
}

func (l *ledger) monthBill(k acctMonth) *bill {
	b := l.months[k]
	if b == nil {
		b = &bill{}
		l.months[k] = b
	}
	return b
}

// foldIssued records what a new invoice bills. Invoices from before Covers
// was recorded bill, by convention: a monthly one, the month's usage folded
// before it in the global order; a top-up one, its top-up.
func (l *ledger) foldIssued(inv *invoice) {
	if inv.TopUpRef == "" {
		k := acctMonth{l.accountID(inv.AccountID), l.str(inv.Month)}
		if len(inv.Usage) == 0 && inv.Covers.Sign() == 0 {
			inv.Covers = projections.Amount{}
			for _, u := range l.usage[k] {
				inv.Usage = append(inv.Usage, domain.UsageBilled{Model: u.Model, Requests: u.Requests,
					TokensIn: u.TokensIn, TokensOut: u.TokensOut, Cost: u.Cost.Decimal()})
				inv.Covers = inv.Covers.Plus(u.Cost)
			}
		}
		l.monthBill(k).add(inv)
		l.billRounding(inv, false)
		return
	}
	acct := l.accountID(inv.AccountID)
	refs := inv.TopUps
	if len(refs) == 0 {
		refs = []string{inv.TopUpRef}
		if t := l.findTopUp(acct, inv.TopUpRef); t != nil && inv.Covers.Sign() == 0 {
			inv.Covers = t.Amount
		}
	}
	l.topUpBill(acct).add(inv)
	for i, ref := range refs {
		t := l.findTopUp(acct, ref)
		if t == nil {
			l.topUpCover[coverKey(acct, ref)] = inv
			continue
		}
		t.cover = inv
		// The top-up's copy of the reference serves the invoice too.
		if i < len(inv.TopUps) {
			inv.TopUps[i] = t.Reference
		}
		if inv.TopUpRef == ref {
			inv.TopUpRef = t.Reference
		}
	}
}

// billRounding adds to its account's credit.rounding what a monthly
// invoice bills beyond its usage, or takes it off for a void.
func (l *ledger) billRounding(inv *invoice, void bool) {
	a := l.accounts[inv.AccountID]
	if a == nil || inv.billsPayments() {
		return
	}
	c := a.creditOf()
	// What the voids' Less it carries took off is no rounding: given back
	// at the void, as an allowance (credit.allow).
	r := projections.AmountOf(decimal.NewFromInt(inv.Total + inv.carried())).Minus(inv.Covers)
	if void {
		r = projections.Amount{}.Minus(r)
	}
	c.addRounding(r)
}

// coverLegacyTopUp sets what a legacy top-up invoice folded before its
// top-up bills, once the top-up is known.
func (l *ledger) coverLegacyTopUp(inv *invoice, acct string, t *topUp) {
	b := l.topUpBill(acct)
	b.covers = b.covers.Add(t.Amount.Decimal())
	inv.Covers = t.Amount
}

// foldVoided releases what a voided invoice billed: its usage or top-ups
// are to be invoiced again.
func (l *ledger) foldVoided(inv *invoice) {
	if inv.TopUpRef == "" {
		l.monthBill(acctMonth{l.accountID(inv.AccountID), l.str(inv.Month)}).remove(inv)
		l.billRounding(inv, true)
		return
	}
	acct := l.accountID(inv.AccountID)
	l.topUpBill(acct).remove(inv)
	refs := inv.TopUps
	if len(refs) == 0 {
		refs = []string{inv.TopUpRef}
	}
	for _, ref := range refs {
		if l.topUpCover[coverKey(acct, ref)] == inv {
			delete(l.topUpCover, coverKey(acct, ref))
		}
		if t := l.findTopUp(acct, ref); t != nil && t.cover == inv {
			t.cover = nil
		}
	}
	l.markTopUps(acct)
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
			st.changes++
		}
	case *domain.InvoiceRangeWithdrawn:
		// WithdrawRange appends only the withdrawal of a range no number
		// was used from: numbers are taken in order, so the range holds no
		// count below st.count, and removing it leaves the counts (and the
		// passed-over ones, all below st.count) naming the same numbers.
		r := twrules.Range{Prefix: b.Prefix, From: b.From, To: b.To}
		if i := slices.Index(st.rngs, r); i >= 0 && st.rngs.Used(st.count)[i] == 0 {
			st.rngs = slices.Delete(slices.Clone(st.rngs), i, i+1)
			st.assigned = len(st.rngs) > 0
			st.withdrawn = append(st.withdrawn, WithdrawnRange{Range: r, At: e.OccurredAt, Actor: b.Actor, Reason: b.Reason})
			st.changes++
		}
	case *domain.InvoiceNumbersSkipped:
		// SkipNumbers appends only a skip past the numbers used before it.
		if b.Count > 0 {
			st.count += b.Count
			st.skipped += b.Count
		}
	case *domain.InvoiceIssued:
		// The next number follows the highest one taken. An append of
		// several invoices stores those the store does not hold yet: one
		// issued a moment before in the other period's stream (the same
		// draft, so the same event ID) is left out, and those after it keep
		// their numbers, one further than the stream's count. Counting
		// events would give one of those numbers again. The number passed
		// over is never used, and is reported blank.
		switch k, ok := st.rngs.Index(b.Number); {
		case !ok:
			st.count++
		case k > st.count:
			st.passed = append(st.passed, [2]int64{st.count, k - 1})
			fallthrough
		case k == st.count:
			st.count = k + 1
		}
		if b.IssuedAt.After(st.latest) {
			st.latest = b.IssuedAt
		}
		inv := l.record(b, e.ID, e.Version)
		if prev := l.byNumber[b.Number]; prev != nil && prev.Period != b.Period {
			l.reused[b.Number] = true
		}
		l.byNumber[b.Number] = inv
		l.invoices = append(l.invoices, inv)
		l.foldIssued(inv)
	}
	return nil
}

// record makes the ledger's record of an invoice folded from its event at
// version of its period's stream: without what only its document needs
// (read again from the event: Service.LoadDocuments), and with the
// strings that other records hold shared.
func (l *ledger) record(d *domain.InvoiceIssued, id uuid.UUID, version uint64) *invoice {
	inv := &invoice{Number: d.Number, Period: l.str(d.Period), AccountID: l.accountID(d.AccountID), Month: l.str(d.Month),
		TopUpRef: d.TopUpRef, Kind: l.str(d.Kind), BuyerName: d.BuyerName, BuyerTaxID: d.BuyerTaxID,
		Sales: d.Sales, Tax: d.Tax, Total: d.Total, IssuedAt: d.IssuedAt, UploadBy: d.UploadBy, Covers: projections.AmountOf(d.Covers),
		EventID: id, Seq: int32(d.Seq), version: -1, at: version}
	// The decoder leaves room for ten elements in every slice; the ledger
	// keeps exact copies.
	inv.Usage, inv.TopUps = slices.Clone(d.Usage), slices.Clone(d.TopUps)
	if len(d.Replaces) > 0 { // rare: kept with the changes, out of every invoice's record
		inv.change().replaces = slices.Clone(d.Replaces)
	}
	if d.Less > 0 && d.TopUpRef == "" {
		inv.change().less = d.Less
	}
	for i := range inv.Usage {
		inv.Usage[i].Model = l.str(inv.Usage[i].Model)
	}
	if a := l.accounts[inv.AccountID]; a != nil {
		if inv.BuyerName == a.Organisation {
			inv.BuyerName = a.Organisation
		}
		if t := a.TaxID(); inv.BuyerTaxID == t {
			inv.BuyerTaxID = t
		}
	}
	return inv
}

// issued returns the invoice a draft makes, once folded: the one with the
// draft's event ID, or the latest that takes its place among the account's
// invoices of the month or of top-ups (its natural key).
func (l *ledger) issued(d draft) *invoice {
	topUp := d.inv.TopUpRef != ""
	b := l.months[acctMonth{d.inv.AccountID, d.inv.Month}]
	if topUp {
		b = l.topUpBills[d.inv.AccountID]
	}
	if b == nil {
		return nil
	}
	for _, inv := range b.invoices {
		if inv.EventID == d.id {
			return inv
		}
	}
	for i := len(b.invoices) - 1; i >= 0; i-- {
		// A legacy top-up invoice (no TopUps) is keyed by its reference,
		// never by its Seq.
		if inv := b.invoices[i]; int(inv.Seq) == d.inv.Seq && (!topUp || len(inv.TopUps) > 0) {
			return inv
		}
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
	case *domain.AllowanceVoided:
		number = b.InvoiceNumber
	default:
		return nil
	}
	inv := l.byStream(e.Stream, number)
	if inv == nil || int64(e.Version) <= int64(inv.version) {
		return nil
	}
	inv.version = int32(e.Version)
	switch b := ev.(type) {
	case *domain.InvoiceVoided:
		if !inv.Voided {
			ch := inv.change()
			less := int64(0)
			if c, d := l.usageCredit(inv); c != nil && b.Less > 0 {
				// What the re-issue bills less is given back as by an
				// allowance on the invoice, while it still bills it.
				less = b.Less
				c.allow(projections.AmountOf(decimal.NewFromInt(less)), d)
				l.invoiceReturned(l.accounts[inv.AccountID], e, projections.Amount{})
			}
			inv.Voided, ch.voidReason, ch.voidedAt, ch.special, ch.voidLess = true, b.Reason, e.OccurredAt, b.Special, less
			l.foldVoided(inv)
			if less > 0 {
				l.monthBill(acctMonth{l.accountID(inv.AccountID), l.str(inv.Month)}).less += less
			}
		}
	case *domain.AllowanceIssued:
		al := Allowance{AllowanceIssued: *b, IssuedAt: e.OccurredAt, issuedV: e.Version}
		if c, d := l.usageCredit(inv); c != nil {
			al.moved, al.paid = c.allow(projections.AmountOf(decimal.NewFromInt(b.Sales+b.Tax)), d)
			l.invoiceReturned(l.accounts[inv.AccountID], e, projections.Amount{}) // credit given before it may be money returned now
		}
		ch := inv.change()
		ch.allowances = append(ch.allowances, al)
		l.byAllow[b.Number] = inv
	case *domain.AllowanceVoided:
		for i := range inv.allowances() {
			if a := &inv.changes.allowances[i]; a.Number == b.Number && !a.Voided {
				a.Voided, a.VoidReason, a.VoidedAt, a.VoidUploadBy, a.voidedV = true, b.Reason, e.OccurredAt, b.UploadBy, e.Version
				if c, d := l.usageCredit(inv); c != nil {
					amt := projections.AmountOf(decimal.NewFromInt(a.Sales + a.Tax))
					c.disallow(a.moved, a.paid, amt.Minus(a.moved).Minus(a.paid), d)
				}
			}
		}
	}
	return nil
}

// usageCredit is the credit record of a monthly invoice's account, whose
// allowances change what it owes (credit.allow), with what they moved;
// nil for a top-up invoice.
func (l *ledger) usageCredit(inv *invoice) (*credit, *allowedDebt) {
	if inv.billsPayments() {
		return nil, nil
	}
	a := l.accounts[inv.AccountID]
	if a == nil {
		return nil, nil
	}
	d := l.allowed[a.ID]
	if d == nil {
		d = &allowedDebt{}
		l.allowed[a.ID] = d
	}
	return a.creditOf(), d
}

// byStream finds the invoice whose own stream is stream.
func (l *ledger) byStream(stream, number string) *invoice {
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
	case *domain.QuoteWithdrawn:
		if q := l.quotes[b.QuoteID]; q != nil && int64(e.Version) > q.version {
			w := *b
			q.Withdrawal, q.WithdrawnAt, q.version = &w, e.OccurredAt, int64(e.Version)
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
