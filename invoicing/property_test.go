package invoicing

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

// history is one random history under test: a store, a long-lived
// invoicing service, and what the test itself recorded, to check against.
type history struct {
	rt    *rapid.T
	ctx   context.Context
	store *sqlite.Store
	cmd   *commands.Handler
	clock *clock
	svc   *Service
	seq   int
	// used is the test's own sum of postpaid usage (what monthly invoices
	// bill) per account, month and model; all is every request's cost per
	// account and month, whatever the plan.
	used map[[3]string]usageSum
	all  map[[2]string]decimal.Decimal
	// paid is what top-up invoices should bill per account: every payment
	// but what paid usage already billed monthly. received is every
	// payment.
	paid, received map[string]decimal.Decimal
	// credit is what is left of each account's payments invoiced at
	// payment: usage on either plan draws it before anything is invoiced
	// monthly, as its top-up invoices already bill it.
	credit map[string]decimal.Decimal
	// free is what is left of credit given by adjustment, which no invoice
	// bills: prepaid usage draws it before the paid credit.
	free map[string]decimal.Decimal
	// due is postpaid usage billed monthly and not yet paid, overdrawn
	// prepaid usage beyond all credit: a payment pays due first (not
	// invoiced again), then overdrawn (invoiced with the payment).
	due, overdrawn map[string]decimal.Decimal
	// rounded is what payments paid of the rounding of usage billed
	// monthly (under NT$0.5 each), and payments how many met a due.
	rounded  map[string]decimal.Decimal
	payments map[string]int64
	// refunded is the paid credit each account was given back.
	refunded map[string]decimal.Decimal
	// moved is what each allowance on a monthly invoice took off its
	// account's due; owed is what of the account's is still overdrawn,
	// byPayment and byCredit what payments (invoiced at payment) and credit
	// given paid of it since: a payment or credit pays allowed usage first.
	moved                     map[string]decimal.Decimal
	owed, byPayment, byCredit map[string]decimal.Decimal
	// early is what each allowance took off usage already paid; claim is
	// what of the account's finance has not credited back yet, returned
	// the money credited back (it pays what is due, as a payment that
	// nothing invoices would), credited what of it was ever credited
	// back, and refundedReturned what of it a refund took.
	early                                       map[string]decimal.Decimal
	claim, returned, credited, refundedReturned map[string]decimal.Decimal
	// roundingAllowed is what each live allowance on a monthly invoice
	// took off beyond what was due that no payment had paid: the
	// rounding its account's invoices billed beyond their usage.
	roundingAllowed map[string]accountAmount
	// refundOverdrawn is what refunds beyond the balance overdrew and no
	// reversal put back: money returned that pays it went back to the
	// customer, as a refund.
	refundOverdrawn map[string]decimal.Decimal
	// balance is each account's top-ups less its usage, as the balances
	// read model should have it.
	balance map[string]decimal.Decimal
	plans   map[string]domain.Plan // each account's plan now
	dir     string                 // the history's folder
	// specialVoids counts the special voids recorded, so that the test
	// knows its histories reach past a filing deadline.
	specialVoids int
	// b2cRefused counts the allowances refused on invoices without a
	// 統一編號 before their period was filed, b2cAllowed those issued on
	// such invoices after.
	b2cRefused, b2cAllowed int
	// voidsLess counts the voids that took an amount off the re-issue.
	voidsLess int
	// stopped is set while serve is stopped: payments and voids wait for
	// their invoices until it starts again (or the next command that
	// invoices top-ups).
	stopped bool
	// topUps is each payment's month and what of it is invoiced at
	// payment; billedWith, the top-ups first invoiced together with each.
	topUps     map[string]topUpRecord
	billedWith map[string]string
	// taken lists the negative adjustments not reversed yet;
	// paidBack counts the reversals that put paid credit back.
	taken    []took
	paidBack int
	// dueByReversal is the usage due that reversals' paid credit paid.
	dueByReversal map[string]decimal.Decimal
	// allowedBeyond counts the reversals after which the reconciliation
	// named allowances beyond the refunds to void.
	allowedBeyond int
}

type topUpRecord struct {
	month  string
	amount decimal.Decimal
}

type usageSum struct {
	requests int64
	cost     decimal.Decimal
}

var (
	// b2b stays on Business; b2c (Enterprise) and pre (Starter) move
	// between a postpaid and a prepaid plan.
	accounts = []string{"b2b", "b2c", "pre"}
	movers   = []string{"b2c", "pre"}
	models   = []string{"gpt-4o", "claude-sonnet"}
	// The history runs from late October 2026 to mid-January 2027: three
	// Taipei months, three two-month periods, and two filing deadlines
	// (Monday November 16, the 15th being a Sunday, and January 15), past
	// which a special void may come.
	historyStart = taipei(2026, 10, 20, 10, 0)
	historyEnd   = taipei(2027, 1, 20, 12, 0)
)

func newHistory(t *testing.T, rt *rapid.T, dir string) *history {
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		rt.Fatal(err)
	}
	h := &history{rt: rt, ctx: context.Background(), store: s, clock: &clock{t: historyStart},
		used: map[[3]string]usageSum{}, all: map[[2]string]decimal.Decimal{}, paid: map[string]decimal.Decimal{}, received: map[string]decimal.Decimal{}, credit: map[string]decimal.Decimal{}, free: map[string]decimal.Decimal{},
		due: map[string]decimal.Decimal{}, overdrawn: map[string]decimal.Decimal{}, rounded: map[string]decimal.Decimal{}, payments: map[string]int64{},
		refunded: map[string]decimal.Decimal{}, moved: map[string]decimal.Decimal{},
		owed: map[string]decimal.Decimal{}, byPayment: map[string]decimal.Decimal{}, byCredit: map[string]decimal.Decimal{},
		early: map[string]decimal.Decimal{}, claim: map[string]decimal.Decimal{}, returned: map[string]decimal.Decimal{}, roundingAllowed: map[string]accountAmount{},
		credited: map[string]decimal.Decimal{}, refundedReturned: map[string]decimal.Decimal{}, dueByReversal: map[string]decimal.Decimal{},
		balance: map[string]decimal.Decimal{}, plans: map[string]domain.Plan{}, refundOverdrawn: map[string]decimal.Decimal{},
		topUps: map[string]topUpRecord{}, billedWith: map[string]string{}}
	h.cmd = &commands.Handler{Store: s, Now: h.clock.Now}
	// The 隨機碼 come from a drawn seed, so that a failing history
	// replays with the same codes and barcodes.
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], rapid.Uint64().Draw(rt, "random code seed"))
	if h.svc, err = New(s, Config{Seller: DevSeller(), Now: h.clock.Now, Random: mrand.NewChaCha8(seed)}); err != nil {
		rt.Fatal(err)
	}
	// One range for all three periods: 字軌 letters recycle, and each
	// invoice is named by its period and number. The last is two periods
	// ahead of the first clock: meant.
	for _, p := range []struct {
		period, prefix string
	}{{"2026-09", "AB"}, {"2026-11", "AB"}, {"2027-01", "AB"}} {
		if err := h.svc.AssignRange(h.ctx, p.period, p.prefix, 10000000, 10099999, FarPeriodMeant); err != nil {
			rt.Fatal(err)
		}
	}
	for _, a := range []domain.AccountOpened{
		{AccountID: "b2b", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness},
		{AccountID: "b2c", Organisation: "王小明工作室", Plan: domain.PlanEnterprise},
		{AccountID: "pre", Organisation: "小商店", Plan: domain.PlanStarter},
	} {
		if _, err := h.cmd.OpenAccount(h.ctx, a); err != nil {
			rt.Fatal(err)
		}
		h.plans[a.AccountID] = a.Plan
	}
	return h
}

func (h *history) append(stream string, id [16]byte, at time.Time, ev domain.Event) {
	d, err := commands.Event(id, at, ev)
	if err == nil {
		_, err = h.store.Append(h.ctx, stream, eventstore.Any(), d)
	}
	if err != nil {
		h.rt.Fatal(err)
	}
}

// ok fails the history on an error that the state does not explain.
func (h *history) ok(err error, allowed ...error) {
	if err == nil {
		return
	}
	for _, a := range allowed {
		if errors.Is(err, a) {
			return
		}
	}
	h.rt.Fatalf("unexpected error: %v", err)
}

func (h *history) month(at time.Time) string { return monthOf(at) }

// Actions of a history.

func (h *history) advance(rt *rapid.T) {
	next := h.clock.Now().Add(time.Duration(rapid.IntRange(1, 9*24).Draw(rt, "hours")) * time.Hour)
	if next.After(historyEnd) {
		next = historyEnd
	}
	h.clock.Set(next)
}

func (h *history) use(rt *rapid.T) {
	acct := rapid.SampledFrom(accounts).Draw(rt, "account")
	model := rapid.SampledFrom(models).Draw(rt, "model")
	// Started up to 40 days ago: late usage of a closed or invoiced month.
	started := h.clock.Now().Add(-time.Duration(rapid.IntRange(0, 40*24).Draw(rt, "age hours")) * time.Hour)
	if started.Before(historyStart) {
		started = historyStart
	}
	var cost decimal.Decimal
	if rapid.Bool().Draw(rt, "4 decimals") {
		cost = decimal.New(int64(rapid.IntRange(1, 500_000).Draw(rt, "cost 1e-4")), -4)
	} else {
		cost = decimal.New(int64(rapid.IntRange(1, 30_000).Draw(rt, "cost cents")), -2)
	}
	h.request(acct, model, started, cost)
}

// request records a request of acct that started at started and cost
// cost, as the gateway does.
func (h *history) request(acct, model string, started time.Time, cost decimal.Decimal) {
	h.seq++
	id := fmt.Sprintf("req-%d", h.seq)
	h.append(domain.UsageStream(acct), domain.EventID(domain.TypeRequestCompleted, id), h.clock.Now(), &domain.RequestCompleted{
		RequestID: id, AccountID: acct, Model: model, Usage: domain.Usage{Input: 10, Output: 5}, Cost: cost,
		StartedAt: started.UTC(), Outcome: domain.OutcomeCompleted})
	h.all[[2]string{acct, h.month(started)}] = h.all[[2]string{acct, h.month(started)}].Add(cost)
	h.balance[acct] = h.balance[acct].Sub(cost)
	rest := cost
	if !h.plans[acct].Postpaid() && h.free[acct].IsPositive() {
		f := decimal.Min(h.free[acct], rest)
		h.free[acct], rest = h.free[acct].Sub(f), rest.Sub(f)
	}
	drawn := decimal.Min(h.credit[acct], rest)
	h.credit[acct], rest = h.credit[acct].Sub(drawn), rest.Sub(drawn)
	if rest.IsZero() {
		return // paid by credit invoiced at payment or given
	}
	if !h.plans[acct].Postpaid() {
		h.overdrawn[acct] = h.overdrawn[acct].Add(rest) // the next payment's invoice bills it
		return
	}
	h.due[acct] = h.due[acct].Add(rest)
	h.settleReturned(acct)
	k := [3]string{acct, h.month(started), model}
	u := h.used[k]
	u.requests++
	u.cost = u.cost.Add(rest)
	h.used[k] = u
}

// plan moves b2c or pre to the other kind of plan: its later requests are
// invoiced monthly (postpaid) or its later top-ups are (prepaid).
func (h *history) plan(rt *rapid.T) {
	h.move(rapid.SampledFrom(movers).Draw(rt, "account to move"))
}

// move moves acct, a mover, to the other kind of plan.
func (h *history) move(acct string) {
	pc := domain.PlanChanged{AccountID: acct, Plan: domain.PlanStarter}
	if !h.plans[acct].Postpaid() {
		pc.Plan, pc.CreditLimit = domain.PlanEnterprise, decimal.NewFromInt(100_000)
	}
	h.ok(h.cmd.ChangePlan(h.ctx, pc))
	h.plans[acct] = pc.Plan
	h.invoiceReturned(acct)
}

// invoiceReturned invoices the money returned to acct, if it is on a
// prepaid plan, as a payment received now: prepaid usage is on no monthly
// invoice. It pays what is overdrawn, then is paid credit.
func (h *history) invoiceReturned(acct string) {
	r := h.returned[acct]
	if h.plans[acct].Postpaid() || !r.IsPositive() {
		return
	}
	h.returned[acct] = decimal.Zero
	h.paid[acct] = h.paid[acct].Add(r)
	over := decimal.Min(h.overdrawn[acct], r)
	h.overdrawn[acct] = h.overdrawn[acct].Sub(over)
	h.payOwed(acct, over, h.byPayment)
	h.credit[acct] = h.credit[acct].Add(r.Sub(over))
	h.ok(h.svc.Sync(h.ctx))
	h.invoiceTopUps()
}

// invoiceTopUps invoices the top-ups due, as serve does at once while it
// runs.
func (h *history) invoiceTopUps() {
	if !h.stopped {
		h.ok(h.svc.InvoiceTopUps(h.ctx))
	}
}

// reissue re-issues a voided top-up invoice at once, as serve does, or
// leaves it to serve's start: the void was the CLI's, with serve stopped,
// and payments may come in before the re-issue.
func (h *history) reissue(rt *rapid.T) {
	if rapid.Bool().Draw(rt, "voided with serve stopped") {
		h.stopped = true
	}
	h.invoiceTopUps()
}

// serve stops serve, or starts it again: started, it invoices the
// payments received and re-issues the invoices voided meanwhile.
func (h *history) serve(rt *rapid.T) {
	h.stopped = !h.stopped
	h.ok(h.svc.Sync(h.ctx))
	h.invoiceTopUps()
}

func (h *history) issue(rt *rapid.T) {
	acct := rapid.SampledFrom(accounts).Draw(rt, "account")
	// From the month's first day: a month back from the 31st by date
	// arithmetic lands in the same month.
	now := h.clock.Now().In(twrules.Taipei)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, twrules.Taipei)
	month := h.month(first.AddDate(0, -rapid.IntRange(0, 1).Draw(rt, "months back"), 0))
	_, _, err := h.svc.IssueMonthly(h.ctx, acct, month)
	h.ok(err, ErrInvalid) // nothing to bill, or under NT$1
}

func (h *history) close(rt *rapid.T) {
	now := h.clock.Now().In(twrules.Taipei)
	month := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei).Format("2006-01")
	_, err := h.svc.Close(h.ctx, month, CloseOptions{})
	h.ok(err)
}

func (h *history) topUp(rt *rapid.T) {
	var amount decimal.Decimal
	acct := rapid.SampledFrom(accounts).Draw(rt, "account paying")
	switch rapid.IntRange(0, 4).Draw(rt, "top-up kind") {
	case 4: // what the account owes, as a customer pays its balance
		amount = decimal.Max(h.balance[acct].Neg().Ceil(), decimal.NewFromInt(1))
	case 0:
		amount = decimal.NewFromInt(int64(rapid.IntRange(1, 20_000).Draw(rt, "whole NTD")))
	case 1:
		amount = decimal.RequireFromString(rapid.SampledFrom([]string{"12300.5", "0.4", "0.6", "99.99"}).Draw(rt, "known fraction"))
	default:
		amount = decimal.New(int64(rapid.IntRange(1, 50_000).Draw(rt, "cents")), -2)
	}
	h.pay(acct, amount)
}

// pay records a payment of an account, as the gateway's door or older
// history has it, and invoices the top-ups due.
func (h *history) pay(acct string, amount decimal.Decimal) {
	h.seq++
	tu := domain.CreditsToppedUp{AccountID: acct, Amount: amount, Method: domain.MethodCard, Reference: fmt.Sprintf("pay-%d", h.seq)}
	// The door refuses a fraction; history written before it may still
	// hold one, so it goes straight to the store.
	_, err := h.cmd.TopUp(h.ctx, tu)
	if err == nil && !amount.IsInteger() {
		h.rt.Fatalf("the door took a top-up of NT$%s", amount)
	}
	if err != nil {
		h.append(domain.TopUpStream(acct), domain.EventID(domain.TypeCreditsToppedUp, acct, tu.Reference), h.clock.Now(), &tu)
	}
	h.balance[acct] = h.balance[acct].Add(amount)
	h.received[acct] = h.received[acct].Add(amount)
	rest := amount
	// Usage billed monthly is not invoiced again: what the invoices bill
	// unpaid (what is due and their rounding), the usage not billed yet
	// rounded to whole NTD as its invoice will bill it; what the rounding
	// billed beyond the usage is credit.
	owed := decimal.Zero
	if h.due[acct].IsPositive() {
		h.payments[acct]++
		owed = decimal.Min(decimal.Max(h.due[acct].Add(h.unpaidRounding(acct)).Round(0), decimal.Zero), rest)
	}
	if owed.GreaterThanOrEqual(h.due[acct]) {
		h.credit[acct] = h.credit[acct].Add(owed.Sub(h.due[acct]))
		h.rounded[acct] = h.rounded[acct].Add(owed.Sub(h.due[acct]))
		h.due[acct] = decimal.Zero
	} else {
		h.due[acct] = h.due[acct].Sub(owed)
	}
	rest = rest.Sub(owed)
	h.paid[acct] = h.paid[acct].Add(rest)
	h.topUps[tu.Reference] = topUpRecord{h.month(h.clock.Now()), rest}
	over := decimal.Min(h.overdrawn[acct], rest)
	h.overdrawn[acct], rest = h.overdrawn[acct].Sub(over), rest.Sub(over)
	h.payOwed(acct, over, h.byPayment)
	h.credit[acct] = h.credit[acct].Add(rest)
	h.ok(h.svc.Sync(h.ctx))
	h.invoiceTopUps()
}

// adjust corrects a mover's balance by hand, up (credit given, never
// invoiced: it pays overdrawn usage first) or down (a refund: given credit
// first, then paid credit, then overdrawn).
func (h *history) adjust(rt *rapid.T) {
	acct := rapid.SampledFrom(movers).Draw(rt, "account adjusted")
	d := decimal.New(int64(rapid.IntRange(-30_000, 30_000).Draw(rt, "adjustment cents")), -2)
	if d.IsZero() {
		return
	}
	if d.IsPositive() {
		h.give(acct, d, "correction")
		return
	}
	h.takeBack(acct, d)
}

// takeBack records a negative adjustment d of an account and what it took
// of each part of its credit, for its reversal.
func (h *history) takeBack(acct string, d decimal.Decimal) {
	id, _, err := h.cmd.AdjustOnceRecorded(h.ctx, domain.CreditsAdjusted{AccountID: acct, Amount: d, Reason: "correction"}, "")
	h.ok(err)
	h.balance[acct] = h.balance[acct].Add(d)
	take := d.Neg()
	t := took{id: id, acct: acct, amount: d}
	t.free = decimal.Min(h.free[acct], take)
	h.free[acct], take = h.free[acct].Sub(t.free), take.Sub(t.free)
	t.returned = decimal.Min(h.returned[acct], take)
	h.returned[acct], take = h.returned[acct].Sub(t.returned), take.Sub(t.returned)
	h.refundedReturned[acct] = h.refundedReturned[acct].Add(t.returned)
	t.paid = decimal.Min(h.credit[acct], take)
	h.credit[acct], take = h.credit[acct].Sub(t.paid), take.Sub(t.paid)
	if t.paid.IsPositive() {
		h.refunded[acct] = h.refunded[acct].Add(t.paid)
	}
	t.overdrawn = take
	h.refundOverdrawn[acct] = h.refundOverdrawn[acct].Add(take)
	h.overdrawn[acct] = h.overdrawn[acct].Add(take)
	h.taken = append(h.taken, t)
}

// took is what a negative adjustment took of its account's credit, which
// its reversal puts back.
type took struct {
	id                              uuid.UUID
	acct                            string
	amount                          decimal.Decimal
	free, returned, paid, overdrawn decimal.Decimal
}

// reverse reverses a negative adjustment not reversed yet, as finance
// undoes one recorded by mistake. One that took no money (returned or
// paid) is put back as any credit given is; otherwise, in the reverse
// order of the taking: what it overdrew as credit given, the paid credit
// (paying usage due since, which stays refunded, or overdrawn since), the
// money returned, then the free credit as credit given.
func (h *history) reverse(rt *rapid.T) {
	if len(h.taken) == 0 {
		return
	}
	h.reverseAt(rapid.IntRange(0, len(h.taken)-1).Draw(rt, "adjustment reversed"))
}

// mistake is the one reversals are for: a payment, then a negative
// adjustment that takes part of it back as a refund, reversed at once or
// left for a later step (reverse), with usage and invoices in between.
func (h *history) mistake(rt *rapid.T) {
	acct := rapid.SampledFrom(movers).Draw(rt, "account of the mistake")
	h.pay(acct, decimal.NewFromInt(int64(rapid.IntRange(1, 20_000).Draw(rt, "payment before the mistake"))))
	if !h.credit[acct].IsPositive() {
		return // the payment went to what the account owed
	}
	paid := h.credit[acct].Mul(decimal.NewFromInt(int64(rapid.IntRange(1, 100).Draw(rt, "percent of the paid credit taken")))).Div(decimal.NewFromInt(100)).Round(2)
	take := h.free[acct].Add(h.returned[acct]).Add(decimal.Max(paid, decimal.New(1, -2))).RoundCeil(2) // cents, as adjustments are
	h.takeBack(acct, take.Neg())
	if rapid.Bool().Draw(rt, "refund allowed before its reversal") {
		h.allowRefund(rt, acct)
	}
	if rapid.Bool().Draw(rt, "mistake reversed at once") {
		h.reverseAt(len(h.taken) - 1)
	}
}

// allowRefund issues, as finance does when the reconciliation asks, an
// allowance on acct's latest live top-up invoice for all or part of what
// its refunds leave to allow. A buyer without a 統一編號 takes it once the
// invoice's period is filed, which the clock may first pass.
func (h *history) allowRefund(rt *rapid.T, acct string) {
	toAllow := h.refundLine(acct).ToAllow
	var inv *Invoice
	for _, i := range h.live() {
		if i.AccountID == acct && i.TopUpRef != "" && i.Net() >= 1 {
			inv = &i
		}
	}
	if toAllow < 1 || inv == nil {
		return
	}
	if inv.BuyerTaxID == "" && h.svc.VoidWindowClosed(*inv) == nil {
		p, _ := twrules.ParsePeriod(inv.Period)
		d := p.FilingDeadline()
		if d.After(historyEnd) || !rapid.Bool().Draw(rt, "period filed before the refund's allowance") {
			return
		}
		h.clock.Set(d)
	}
	amount := rapid.Int64Range(1, min(toAllow, inv.Net())).Draw(rt, "refund allowed")
	_, err := h.svc.IssueAllowance(h.ctx, InvoiceRef(inv.Period, inv.Number), amount, "退款")
	h.ok(err, ErrConflict) // nine allowances already
}

// refundLine is the reconciliation's refund line of acct (zero when it
// lists none).
func (h *history) refundLine(acct string) Refund {
	rec, err := h.svc.Reconcile(h.ctx, "")
	h.ok(err)
	for _, r := range rec.Refunds {
		if r.AccountID == acct {
			return r
		}
	}
	return Refund{}
}

// voidBeyond voids, as finance does when the reconciliation asks, the
// allowances on acct's top-up invoices that allow beyond its refunds
// after the reversal of a refund, or leaves them listed.
func (h *history) voidBeyond(acct string) {
	r := h.refundLine(acct)
	if r.Beyond == 0 {
		return
	}
	h.allowedBeyond++
	if !rapid.Bool().Draw(h.rt, "allowances beyond refunds voided") {
		return
	}
	for _, a := range r.ToVoid {
		_, err := h.svc.VoidAllowance(h.ctx, a.Number, "退款已撤銷")
		h.ok(err)
	}
}

// reverseAt reverses the negative adjustment h.taken[i].
func (h *history) reverseAt(i int) {
	t := h.taken[i]
	h.taken = slices.Delete(h.taken, i, i+1)
	d := t.amount.Neg()
	h.ok(h.cmd.Adjust(h.ctx, domain.CreditsAdjusted{AccountID: t.acct, Amount: d, Reason: "reverses a mistake", Reverses: t.id}))
	h.balance[t.acct] = h.balance[t.acct].Add(d)
	if !t.returned.IsPositive() && !t.paid.IsPositive() {
		h.creditGiven(t.acct, d)
		return
	}
	acct := t.acct
	if t.paid.IsPositive() {
		h.paidBack++
	}
	if t.overdrawn.IsPositive() {
		h.refundOverdrawn[acct] = decimal.Max(h.refundOverdrawn[acct].Sub(t.overdrawn), decimal.Zero)
		h.creditGiven(acct, t.overdrawn)
	}
	due := decimal.Min(h.due[acct], t.paid)
	back := t.paid.Sub(due)
	over := decimal.Min(h.overdrawn[acct], back)
	h.due[acct], h.overdrawn[acct] = h.due[acct].Sub(due), h.overdrawn[acct].Sub(over)
	h.dueByReversal[acct] = h.dueByReversal[acct].Add(due)
	h.payOwed(acct, over, h.byPayment)
	h.credit[acct] = h.credit[acct].Add(back.Sub(over))
	h.refunded[acct] = h.refunded[acct].Sub(back)
	if t.returned.IsPositive() {
		h.returned[acct] = h.returned[acct].Add(t.returned)
		h.refundedReturned[acct] = h.refundedReturned[acct].Sub(t.returned)
		h.settleReturned(acct)
	}
	if t.free.IsPositive() {
		h.creditGiven(acct, t.free)
	}
	h.invoiceReturned(acct)
	// An allowance issued for the refund may now allow beyond the
	// refunds.
	if t.paid.IsPositive() {
		h.voidBeyond(acct)
	}
}

// give credits acct's balance with d, positive: it pays overdrawn usage
// first, then returns what allowances took off usage paid already, then
// is credit given.
func (h *history) give(acct string, d decimal.Decimal, reason string) {
	h.ok(h.cmd.Adjust(h.ctx, domain.CreditsAdjusted{AccountID: acct, Amount: d, Reason: reason}))
	h.balance[acct] = h.balance[acct].Add(d)
	h.creditGiven(acct, d)
}

// creditGiven is what credit given, d, does to acct's credit (give).
func (h *history) creditGiven(acct string, d decimal.Decimal) {
	if h.claim[acct].IsPositive() {
		// It pays what allowances left owed, as credit given; then, as far
		// as allowances took off usage paid, it is money returned, which
		// pays what else is overdrawn (prepaid usage) as a payment would,
		// invoiced at payment.
		owed := decimal.Min(decimal.Min(h.owed[acct], h.overdrawn[acct]), d)
		h.overdrawn[acct], d = h.overdrawn[acct].Sub(owed), d.Sub(owed)
		h.payOwed(acct, owed, h.byCredit)
		r := decimal.Min(h.claim[acct], d)
		h.claim[acct], h.credited[acct], d = h.claim[acct].Sub(r), h.credited[acct].Add(r), d.Sub(r)
		p := decimal.Min(h.overdrawn[acct], r)
		h.overdrawn[acct], h.paid[acct] = h.overdrawn[acct].Sub(p), h.paid[acct].Add(p)
		h.returned[acct] = h.returned[acct].Add(r.Sub(p))
		h.settleReturned(acct)
	}
	over := decimal.Min(h.overdrawn[acct], d)
	h.overdrawn[acct] = h.overdrawn[acct].Sub(over)
	h.payOwed(acct, over, h.byCredit)
	h.free[acct] = h.free[acct].Add(d.Sub(over))
	h.returnCredit(acct, d.Sub(over))
	h.invoiceReturned(acct)
}

// returnCredit records that up to amt of acct's free credit is money
// returned: what allowances took off usage already paid.
func (h *history) returnCredit(acct string, amt decimal.Decimal) {
	h.returnCreditAt(acct, amt, h.unpaidRounding(acct))
}

// returnCreditAt is returnCredit while the account's invoices bill
// rounding unpaid.
func (h *history) returnCreditAt(acct string, amt, rounding decimal.Decimal) {
	t := decimal.Min(decimal.Min(h.claim[acct], amt), h.free[acct])
	if !t.IsPositive() {
		return
	}
	h.claim[acct], h.credited[acct] = h.claim[acct].Sub(t), h.credited[acct].Add(t)
	h.free[acct], h.returned[acct] = h.free[acct].Sub(t), h.returned[acct].Add(t)
	h.settleReturnedAt(acct, rounding)
}

// settleReturned pays what acct owes with the money returned to it.
func (h *history) settleReturned(acct string) { h.settleReturnedAt(acct, h.unpaidRounding(acct)) }

// settleReturnedAt is settleReturned while the account's invoices bill
// rounding unpaid: of what is due, the usage they rounded down (a
// negative rounding) is owed by nobody, and money returned pays none of it.
func (h *history) settleReturnedAt(acct string, rounding decimal.Decimal) {
	t := decimal.Min(h.returned[acct], decimal.Max(h.due[acct].Add(decimal.Min(rounding, decimal.Zero)), decimal.Zero))
	if t.IsPositive() {
		h.returned[acct], h.due[acct] = h.returned[acct].Sub(t), h.due[acct].Sub(t)
	}
}

// payOwed records that amt of what acct had overdrawn was paid, allowed
// usage first, by what by sums.
func (h *history) payOwed(acct string, amt decimal.Decimal, by map[string]decimal.Decimal) {
	t := decimal.Min(h.owed[acct], amt)
	h.owed[acct] = h.owed[acct].Sub(t)
	by[acct] = by[acct].Add(t)
}

// live lists the invoices not voided.
func (h *history) live() []Invoice {
	var out []Invoice
	for _, inv := range h.svc.Invoices("", "") {
		if !inv.Voided {
			out = append(out, inv)
		}
	}
	return out
}

func (h *history) void(rt *rapid.T) {
	invs := h.live()
	if len(invs) == 0 {
		return
	}
	inv := rapid.SampledFrom(invs).Draw(rt, "invoice to void")
	less := int64(0)
	if inv.TopUpRef == "" && inv.Total >= 2 && rapid.Bool().Draw(rt, "void takes an amount off the re-issue") {
		less = rapid.Int64Range(1, inv.Total-1).Draw(rt, "amount off the re-issue")
	}
	h.voidLess(rt, inv, less)
}

// voidMonthlyLess voids a live monthly invoice (issued early when none
// is), taking an amount off its re-issue.
func (h *history) voidMonthlyLess(rt *rapid.T) {
	monthly := func() []Invoice {
		return slices.DeleteFunc(h.live(), func(inv Invoice) bool { return inv.TopUpRef != "" || inv.Total < 2 })
	}
	invs := monthly()
	if len(invs) == 0 && len(h.used) > 0 {
		var months [][2]string
		for k := range h.used {
			if !slices.Contains(months, [2]string{k[0], k[1]}) {
				months = append(months, [2]string{k[0], k[1]})
			}
		}
		slices.SortFunc(months, func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
		m := rapid.SampledFrom(months).Draw(rt, "month to issue and void less")
		_, _, err := h.svc.IssueMonthly(h.ctx, m[0], m[1])
		h.ok(err, ErrInvalid) // already billed, or under NT$1
		invs = monthly()
	}
	if len(invs) == 0 {
		return
	}
	inv := rapid.SampledFrom(invs).Draw(rt, "monthly invoice to void less")
	h.voidLess(rt, inv, rapid.Int64Range(1, inv.Total-1).Draw(rt, "amount off the re-issue"))
}

// voidLess voids inv, taking less off the re-issue of a monthly
// invoice's usage (as finance does for a buyer without a 統一編號 before
// filing): the ledger gives it back as by an allowance on the invoice
// while it still bills it, so the model does too, with the rounding the
// invoice bills counted.
func (h *history) voidLess(rt *rapid.T, inv Invoice, less int64) {
	unpaid := h.unpaidRounding(inv.AccountID)
	_, err := h.svc.VoidLess(h.ctx, InvoiceRef(inv.Period, inv.Number), "重開", less)
	h.ok(err, ErrConflict, ErrVoidWindowClosed) // live allowances; past the filing deadline
	if err == nil && inv.TopUpRef != "" {
		h.reissue(rt)
	}
	if err == nil && less > 0 {
		h.voidsLess++
		h.allowUsage(rt, inv.AccountID, less, "void-"+inv.Period+"-"+inv.Number, unpaid)
		if rapid.Bool().Draw(rt, "re-issued at once") {
			_, _, err := h.svc.IssueMonthly(h.ctx, inv.AccountID, inv.Month)
			h.ok(err)
		}
	}
}

// specialVoid records the tax office's special void (專案作廢) of a live
// invoice past its void window. Only the clock past the invoice's period's
// filing deadline allows one: when no invoice is that late, the clock may
// first pass the deadline of the period of one. The approval's day is
// after the deadline, and no later than today. In the ledger it is a void
// in every other way: a monthly invoice's usage is pending again, a
// top-up's invoice is issued again at once.
func (h *history) specialVoid(rt *rapid.T) {
	late := func() []Invoice {
		var invs []Invoice
		for _, inv := range h.live() {
			if h.svc.VoidWindowClosed(inv) != nil {
				invs = append(invs, inv)
			}
		}
		return invs
	}
	invs := late()
	if len(invs) == 0 {
		var due []time.Time
		for _, inv := range h.live() {
			p, _ := twrules.ParsePeriod(inv.Period)
			if d := p.FilingDeadline(); !d.After(historyEnd) && !slices.ContainsFunc(due, d.Equal) {
				due = append(due, d)
			}
		}
		if len(due) == 0 {
			return
		}
		slices.SortFunc(due, time.Time.Compare)
		d := rapid.SampledFrom(due).Draw(rt, "filing deadline to pass")
		h.clock.Set(d.Add(time.Duration(rapid.IntRange(0, int(historyEnd.Sub(d).Hours())).Draw(rt, "hours past the deadline")) * time.Hour))
		if invs = late(); len(invs) == 0 {
			return
		}
	}
	inv := rapid.SampledFrom(invs).Draw(rt, "invoice to void specially")
	lastDay, err := time.ParseInLocation(time.DateOnly, h.svc.VoidWindowClosed(inv).LastDay, twrules.Taipei)
	h.ok(err)
	now := h.clock.Now().In(twrules.Taipei)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, twrules.Taipei)
	days := int(today.Sub(lastDay).Hours()/24 + 0.5)
	if days < 1 {
		rt.Fatalf("invoice %s is past its void window on %s, the last day to file it", inv.Number, lastDay.Format(time.DateOnly))
	}
	approved := lastDay.AddDate(0, 0, rapid.IntRange(1, days).Draw(rt, "approval days after the deadline"))
	_, err = h.svc.SpecialVoid(h.ctx, InvoiceRef(inv.Period, inv.Number), "買受人錯誤",
		domain.SpecialVoid{Approval: "北區國稅審字第1160001234號", ApprovedOn: approved.Format(time.DateOnly)})
	h.ok(err, ErrConflict) // live allowances
	if err == nil {
		h.specialVoids++
	}
	if err == nil && inv.TopUpRef != "" {
		h.reissue(rt)
	}
}

func (h *history) allowance(rt *rapid.T) {
	// Monthly invoices are fewer than top-up ones: the kind is drawn
	// first, so that allowances on them, and payments and voids after
	// them, are as frequent.
	monthly := rapid.Bool().Draw(rt, "allow a monthly invoice")
	kind := func() []Invoice {
		var invs []Invoice
		for _, inv := range h.live() {
			if (inv.TopUpRef == "") == monthly {
				invs = append(invs, inv)
			}
		}
		return invs
	}
	invs := kind()
	if len(invs) == 0 && monthly {
		// Finance may issue one early, to allow it: one of a month with
		// usage.
		var months [][2]string
		for k := range h.used {
			if !slices.Contains(months, [2]string{k[0], k[1]}) {
				months = append(months, [2]string{k[0], k[1]})
			}
		}
		if len(months) == 0 {
			return
		}
		slices.SortFunc(months, func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
		m := rapid.SampledFrom(months).Draw(rt, "month to issue and allow")
		_, _, err := h.svc.IssueMonthly(h.ctx, m[0], m[1])
		h.ok(err, ErrInvalid) // already billed, or under NT$1
		invs = kind()
	}
	if len(invs) == 0 {
		return
	}
	inv := rapid.SampledFrom(invs).Draw(rt, "invoice to allow")
	if inv.Net() < 1 {
		return
	}
	if inv.BuyerTaxID == "" && h.svc.VoidWindowClosed(inv) == nil {
		// A buyer without a 統一編號 takes no allowance before the
		// invoice's period is filed (it is voided and issued again then):
		// the allowance waits for the filing deadline.
		_, err := h.svc.IssueAllowance(h.ctx, InvoiceRef(inv.Period, inv.Number), 1, "服務中斷")
		var b2c *B2CAllowanceError
		if !errors.As(err, &b2c) || b2c.Number != inv.Number {
			rt.Fatalf("allowance on B2C invoice %s before its period %s is filed: %v", inv.Number, inv.Period, err)
		}
		h.b2cRefused++
		if !strings.Contains(err.Error(), b2c.Void) || !strings.Contains(err.Error(), b2c.Reissue) {
			rt.Fatalf("the refusal does not name its void and re-issue: %v", err)
		}
		// The way it names: a monthly invoice is voided, the amount taken
		// off its re-issue.
		if inv.TopUpRef == "" && inv.Total >= 2 && liveAllowances(&inv) == 0 && rapid.Bool().Draw(rt, "void and re-issue less instead") {
			h.voidLess(rt, inv, rapid.Int64Range(1, inv.Total-1).Draw(rt, "amount off the re-issue"))
			return
		}
		p, _ := twrules.ParsePeriod(inv.Period)
		d := p.FilingDeadline()
		if d.After(historyEnd) || !rapid.Bool().Draw(rt, "period filed before the allowance") {
			return
		}
		h.clock.Set(d.Add(time.Duration(rapid.IntRange(0, int(historyEnd.Sub(d).Hours())).Draw(rt, "hours past the filing deadline")) * time.Hour))
	}
	if monthly && rapid.Bool().Draw(rt, "balance paid before the allowance") {
		// The allowance then takes off usage paid already: money returned.
		h.pay(inv.AccountID, decimal.Max(h.balance[inv.AccountID].Neg().Ceil(), decimal.NewFromInt(1)))
	}
	amount := rapid.Int64Range(1, inv.Net()).Draw(rt, "allowance")
	a, err := h.svc.IssueAllowance(h.ctx, InvoiceRef(inv.Period, inv.Number), amount, "服務中斷")
	if b2c := (*B2CAllowanceError)(nil); errors.As(err, &b2c) {
		rt.Fatalf("allowance on invoice %s (統編 %q) refused as before filing: %v", inv.Number, inv.BuyerTaxID, err)
	}
	h.ok(err, ErrConflict) // nine allowances already
	if err == nil && inv.BuyerTaxID == "" {
		h.b2cAllowed++
	}
	if err == nil && inv.TopUpRef == "" {
		h.allowUsage(rt, inv.AccountID, amount, a.Number, h.unpaidRounding(inv.AccountID))
	}
}

// allowUsage models what an allowance of amount on a monthly invoice of
// acct does, or a void's amount taken off the re-issue (key names either),
// unpaid being the rounding its invoices billed unpaid while the invoice
// still billed it; then what finance and the customer may do after.
func (h *history) allowUsage(rt *rapid.T, acct string, amount int64, key string, unpaid decimal.Decimal) {
	{
		// What a monthly invoice no longer bills is not due: owed, it is
		// overdrawn (paid by credit given or an invoiced payment).
		// Of what is due, the usage its invoices rounded down and never
		// bill is owed by nobody.
		t := decimal.Min(decimal.NewFromInt(amount), decimal.Max(h.due[acct].Add(decimal.Min(unpaid, decimal.Zero)), decimal.Zero))
		h.due[acct] = h.due[acct].Sub(t)
		h.overdrawn[acct] = h.overdrawn[acct].Add(t)
		h.owed[acct] = h.owed[acct].Add(t)
		h.moved[key] = t
		// Credit given before the allowance pays it, as credit given
		// after it would.
		given := decimal.Min(h.free[acct], t)
		h.free[acct], h.overdrawn[acct] = h.free[acct].Sub(given), h.overdrawn[acct].Sub(given)
		h.payOwed(acct, given, h.byCredit)
		// Beyond what was due, it takes off the rounding its account's
		// invoices bill unpaid, then usage paid already: owed back to the
		// customer, by credit given before or after it.
		beyond := decimal.NewFromInt(amount).Sub(t)
		r := decimal.Min(decimal.Max(unpaid, decimal.Zero), beyond)
		h.roundingAllowed[key] = accountAmount{acct, r}
		h.early[key] = beyond.Sub(r)
		h.claim[acct] = h.claim[acct].Add(h.early[key])
		h.returnCreditAt(acct, h.free[acct], unpaid.Sub(r))
		h.invoiceReturned(acct)
		// Finance credits the balance with the allowance, as its command
		// says.
		if rapid.Bool().Draw(rt, "allowance credited") {
			h.give(acct, decimal.NewFromInt(amount), "allowance "+key)
		}
		// The customer may pay what its balance shows all the same: the
		// payment pays what the allowance left owed, invoiced at payment.
		if rapid.Bool().Draw(rt, "balance paid after the allowance") {
			h.pay(acct, decimal.Max(h.balance[acct].Neg().Ceil(), decimal.NewFromInt(1)))
		}
		// A mover may change plans while holding the money returned.
		if slices.Contains(movers, acct) && rapid.Bool().Draw(rt, "plan changed after the allowance") {
			h.move(acct)
			// And spend all its balance.
			if h.balance[acct].IsPositive() && rapid.Bool().Draw(rt, "balance used after the plan change") {
				h.request(acct, models[0], h.clock.Now(), h.balance[acct])
			}
		}
	}
}

func (h *history) voidAllowance(rt *rapid.T) {
	type allowed struct {
		number, acct string
		amount       int64
		monthly      bool
	}
	var live []allowed
	for _, inv := range h.live() {
		for _, a := range inv.Allowances {
			if !a.Voided {
				live = append(live, allowed{a.Number, inv.AccountID, a.Sales + a.Tax, inv.TopUpRef == ""})
			}
		}
	}
	if len(live) == 0 {
		return
	}
	a := rapid.SampledFrom(live).Draw(rt, "allowance to void")
	_, err := h.svc.VoidAllowance(h.ctx, a.number, "折讓取消")
	h.ok(err)
	if err == nil && a.monthly {
		// The invoice bills again what the allowance moved: it is due
		// again. What of it is still owed is no longer overdrawn; what a
		// payment paid since is that payment's credit again (invoiced at
		// payment), what credit given paid is free credit again.
		acct, moved := a.acct, h.moved[a.number]
		owed := decimal.Min(decimal.Min(h.owed[acct], h.overdrawn[acct]), moved)
		h.owed[acct], h.overdrawn[acct] = h.owed[acct].Sub(owed), h.overdrawn[acct].Sub(owed)
		rest := moved.Sub(owed)
		paid := decimal.Min(h.byPayment[acct], rest)
		h.byPayment[acct], h.credit[acct] = h.byPayment[acct].Sub(paid), h.credit[acct].Add(paid)
		free := decimal.Min(h.byCredit[acct], rest.Sub(paid))
		h.byCredit[acct], h.free[acct] = h.byCredit[acct].Sub(free), h.free[acct].Add(free)
		h.due[acct] = h.due[acct].Add(owed).Add(paid).Add(free)
		// What it took off usage paid is owed back no more: money
		// returned for it is credit given again, and what of it paid
		// usage since leaves that usage due.
		delete(h.roundingAllowed, a.number) // billed unpaid again
		early := h.early[a.number]
		claimed := decimal.Min(h.claim[acct], early)
		h.claim[acct] = h.claim[acct].Sub(claimed)
		back := decimal.Min(h.credited[acct], early.Sub(claimed))
		h.credited[acct] = h.credited[acct].Sub(back)
		left := decimal.Min(h.returned[acct], back)
		h.returned[acct], h.free[acct] = h.returned[acct].Sub(left), h.free[acct].Add(back)
		h.due[acct] = h.due[acct].Add(back.Sub(left))
		h.settleReturned(acct)
	}
}

// unpaidRounding is what an account's live monthly invoices bill beyond
// the usage they bill (less for those rounded down) that neither a payment
// (rounded) nor a live allowance took off.
func (h *history) unpaidRounding(acct string) decimal.Decimal {
	r := h.rounded[acct].Neg()
	for _, inv := range h.svc.Invoices("", acct) {
		if !inv.Voided && inv.TopUpRef == "" && len(inv.TopUps) == 0 {
			// What voids took off a re-issue (Less) is no rounding.
			r = r.Add(decimal.NewFromInt(inv.Total + inv.Less)).Sub(inv.Covers)
		}
	}
	for _, a := range h.roundingAllowed {
		if a.acct == acct {
			r = r.Sub(a.amount)
		}
	}
	return r
}

// monthlyInvoices counts the monthly invoices an account was issued,
// voided ones too: each rounds its usage by under NT$0.5.
func (h *history) monthlyInvoices(acct string) int64 {
	n := int64(0)
	for _, inv := range h.svc.Invoices("", acct) {
		if inv.TopUpRef == "" && len(inv.TopUps) == 0 {
			n++
		}
	}
	return n
}

// accountAmount is an amount of an account's.
type accountAmount struct {
	acct   string
	amount decimal.Decimal
}

// check asserts the invariants after every step.
func (h *history) check(settled bool) Reconciliation {
	rt := h.rt
	rec, err := h.svc.Reconcile(h.ctx, "")
	if err != nil {
		rt.Fatal(err)
	}
	// Invoiced + pending = used, per account and month; used is what the
	// test recorded; every pending amount has a reason.
	usedBy := map[[2]string]decimal.Decimal{}
	for k, u := range h.used {
		usedBy[[2]string{k[0], k[1]}] = usedBy[[2]string{k[0], k[1]}].Add(u.cost)
	}
	seen := 0
	paid := map[string]decimal.Decimal{}
	for _, r := range rec.Rows {
		if !r.Invoiced.Add(r.Pending).Equal(r.Used) {
			rt.Fatalf("%s %s %s: invoiced %s + pending %s ≠ used %s", r.AccountID, r.Month, r.Basis, r.Invoiced, r.Pending, r.Used)
		}
		if r.Pending.IsNegative() || (!r.Pending.IsZero() && r.Reason == "") {
			rt.Fatalf("%s %s %s: pending %s (%q)", r.AccountID, r.Month, r.Basis, r.Pending, r.Reason)
		}
		switch r.Basis {
		case BasisUsage:
			seen++
			if want := usedBy[[2]string{r.AccountID, r.Month}]; !r.Used.Equal(want) {
				rt.Fatalf("%s %s: used %s, the test recorded %s", r.AccountID, r.Month, r.Used, want)
			}
		case BasisTopUps:
			paid[r.AccountID] = paid[r.AccountID].Add(r.Used)
		}
		if !settled {
			continue
		}
		// Once everything due is invoiced, only these amounts may wait.
		switch r.Reason {
		case "":
		case ReasonMonthOpen:
			if r.Month < h.month(h.clock.Now()) {
				rt.Fatalf("%s %s: month open?", r.AccountID, r.Month)
			}
		case ReasonUnderOneNTD:
			if r.Pending.GreaterThanOrEqual(decimal.NewFromInt(1)) {
				rt.Fatalf("%s %s: %s pending as under NT$1", r.AccountID, r.Month, r.Pending)
			}
		case ReasonFraction:
		default:
			rt.Fatalf("%s %s %s: after settling, %s pending: %s", r.AccountID, r.Month, r.Basis, r.Pending, r.Reason)
		}
	}
	if seen != len(usedBy) {
		rt.Fatalf("rows for %d usage months (test: %d)", seen, len(usedBy))
	}
	refunds := map[string]decimal.Decimal{}
	for _, r := range rec.Refunds {
		refunds[r.AccountID] = r.Refunded
		if r.ToAllow != max(r.Refunded.Floor().IntPart()-r.Allowed, 0) {
			rt.Fatalf("%s: refunds %+v", r.AccountID, r)
		}
	}
	for _, acct := range accounts {
		if !refunds[acct].Equal(h.refunded[acct]) {
			rt.Fatalf("%s: NT$%s of paid credit refunded in the report, the test refunded %s", acct, refunds[acct], h.refunded[acct])
		}
		if !paid[acct].Equal(h.paid[acct]) {
			rt.Fatalf("%s: top-ups %s in the rows, the test's payments less what paid monthly usage %s", acct, paid[acct], h.paid[acct])
		}
		// Every NT$ received is invoiced at payment or pays usage billed
		// monthly: never more of it goes uninvoiced than such usage and
		// the rounding its invoices billed, under NT$0.5 a payment, and
		// the money an allowance returned that a refund then paid out
		// (should the allowance be voided, its invoice is paid again).
		monthly := decimal.Zero
		for k, u := range h.used {
			if k[0] == acct {
				monthly = monthly.Add(u.cost)
			}
		}
		// Money returned is the customer's, received once: while the
		// balance holds it, the monthly invoices bill the usage it pays
		// (or it is invoiced at a move to a prepaid plan); what of it pays
		// what a refund overdrew went back to the customer. A reversal of
		// a refund that took such money, after the allowance's void owed
		// it again and a payment paid that, leaves it so.
		spent := decimal.Min(h.returned[acct], h.overdrawn[acct])
		held := h.returned[acct].Sub(spent).Add(decimal.Min(spent, h.refundOverdrawn[acct]))
		if h.received[acct].Sub(h.paid[acct]).Sub(h.rounded[acct]).Sub(h.refundedReturned[acct]).Sub(held).GreaterThan(monthly) ||
			h.rounded[acct].GreaterThan(decimal.New(5*(h.payments[acct]+h.monthlyInvoices(acct)), -1)) {
			rt.Fatalf("%s: received NT$%s, NT$%s invoiced at payment, NT$%s of usage billed monthly and NT$%s of its rounding in %d payments of %d invoices, NT$%s returned and held or refunded",
				acct, h.received[acct], h.paid[acct], monthly, h.rounded[acct], h.payments[acct], h.monthlyInvoices(acct), held)
		}
		// The balance is made of the credit kinds and what is owed.
		if parts := h.credit[acct].Add(h.free[acct]).Add(h.returned[acct]).Sub(h.due[acct]).Sub(h.overdrawn[acct]); !parts.Equal(h.balance[acct]) {
			rt.Fatalf("%s: balance %s, parts add to %s", acct, h.balance[acct], parts)
		}
		// And the ledger's parts are the test's.
		var c credit
		h.svc.mu.Lock()
		if a := h.svc.l.accounts[acct]; a != nil && a.credit != nil {
			c = *a.credit
		}
		h.svc.mu.Unlock()
		if !c.paid.Decimal().Equal(h.credit[acct]) || !c.free.Decimal().Equal(h.free[acct]) ||
			!c.due.Decimal().Equal(h.due[acct]) || !c.overdrawn.Decimal().Equal(h.overdrawn[acct]) ||
			!c.returned.Decimal().Equal(h.returned[acct]) {
			rt.Fatalf("%s: the ledger's credit is paid %s, free %s, due %s, overdrawn %s, returned %s; the test's %s, %s, %s, %s, %s", acct,
				c.paid.Decimal(), c.free.Decimal(), c.due.Decimal(), c.overdrawn.Decimal(), c.returned.Decimal(),
				h.credit[acct], h.free[acct], h.due[acct], h.overdrawn[acct], h.returned[acct])
		}
	}
	h.checkAllowedBeyond(rec)
	// Top-ups: whole NTD of what was paid is invoiced, never more, and
	// what waits is a fraction once settled.
	topUpTotal := map[string]int64{}
	refs := map[string]string{}
	billed := map[[3]string]usageSum{}
	for _, inv := range h.live() {
		// Allowances, cumulated, never exceed the invoice's sales or tax.
		as, at := inv.allowed()
		if as > inv.Sales || at > inv.Tax || as < 0 || at < 0 {
			rt.Fatalf("invoice %s (%d + %d) has allowances of %d + %d", inv.Number, inv.Sales, inv.Tax, as, at)
		}
		if inv.Total <= 0 || inv.Sales+inv.Tax != inv.Total {
			rt.Fatalf("invoice %s: %d + %d ≠ %d", inv.Number, inv.Sales, inv.Tax, inv.Total)
		}
		if inv.TopUpRef != "" {
			topUpTotal[inv.AccountID] += inv.Total
			for _, ref := range inv.TopUps {
				if other, dup := refs[ref]; dup {
					rt.Fatalf("top-up %s on invoices %s and %s", ref, other, inv.Number)
				}
				refs[ref] = inv.Number
			}
			continue
		}
		for _, u := range inv.Usage {
			k := [3]string{inv.AccountID, inv.Month, u.Model}
			b := billed[k]
			b.requests += u.Requests
			b.cost = b.cost.Add(u.Cost)
			billed[k] = b
		}
	}
	h.checkPaymentsInTheirMonth()
	// No usage is on two live invoices: what they bill of each account,
	// month and model never exceeds what was used.
	for k, b := range billed {
		u := h.used[k]
		if b.requests > u.requests || b.cost.GreaterThan(u.cost) {
			rt.Fatalf("%v: invoices bill %d requests, NT$%s; used %d, NT$%s", k, b.requests, b.cost, u.requests, u.cost)
		}
	}
	// No NT$ is invoiced twice: what monthly invoices bill, less their
	// allowances, is usage that payments not invoiced at payment paid, or
	// that is due, but for the rounding of each month's invoices (under
	// NT$0.5 a month). A payment invoiced at payment never pays it.
	monthlyNet := map[string]int64{}
	monthsBilled := map[string]map[string]bool{}
	for _, inv := range h.live() {
		if inv.TopUpRef == "" {
			monthlyNet[inv.AccountID] += inv.Net()
			if monthsBilled[inv.AccountID] == nil {
				monthsBilled[inv.AccountID] = map[string]bool{}
			}
			monthsBilled[inv.AccountID][inv.Month] = true
		}
	}
	// And every NT$ received is on an invoice: what payments paid beyond
	// what was invoiced at payment is usage that live monthly invoices
	// bill net of their allowances, or is pending, or is money owed or
	// credited back for an allowance on usage paid already, or went back
	// in a refund, but for the rounding of each month's invoices.
	pendingUsage := map[string]decimal.Decimal{}
	for _, r := range rec.Rows {
		if r.Basis == BasisUsage {
			pendingUsage[r.AccountID] = pendingUsage[r.AccountID].Add(r.Pending)
		}
	}
	for _, acct := range accounts {
		// Money credited back is unspent only while the balance holds it:
		// usage overdrawn beside it spent it.
		spent := decimal.Min(h.returned[acct], h.overdrawn[acct])
		unspent := h.returned[acct].Sub(spent)
		// What of it paid a refund's overdraw went back to the customer.
		refunded := h.refundedReturned[acct].Add(decimal.Min(spent, h.refundOverdrawn[acct]))
		onInvoices := decimal.NewFromInt(monthlyNet[acct]).Add(pendingUsage[acct]).Add(h.claim[acct]).Add(unspent).Add(refunded)
		slack := decimal.New(5*int64(len(monthsBilled[acct])), -1)
		if h.received[acct].Sub(h.paid[acct]).Sub(h.rounded[acct]).GreaterThan(onInvoices.Add(slack)) {
			rt.Fatalf("%s (%s): received NT$%s, NT$%s invoiced at payment; monthly invoices bill NT$%d net, NT$%s pending, NT$%s owed back, NT$%s credited back and unspent, NT$%s refunded",
				acct, h.plans[acct], h.received[acct], h.paid[acct], monthlyNet[acct], pendingUsage[acct], h.claim[acct], unspent, refunded)
		}
	}
	for _, acct := range accounts {
		// Usage due that a reversal's paid credit paid is settled too: that
		// money stays refunded, to allow on its top-up invoice.
		settledBy := h.received[acct].Sub(h.paid[acct]).Add(h.due[acct]).Add(h.dueByReversal[acct])
		slack := decimal.New(5*int64(len(monthsBilled[acct])), -1)
		if decimal.NewFromInt(monthlyNet[acct]).GreaterThan(settledBy.Add(slack)) {
			rt.Fatalf("%s: monthly invoices bill NT$%d net; payments not invoiced at payment paid NT$%s and NT$%s is due",
				acct, monthlyNet[acct], h.received[acct].Sub(h.paid[acct]), h.due[acct])
		}
	}
	for _, acct := range accounts {
		whole := h.paid[acct].Floor().IntPart()
		if topUpTotal[acct] > whole || (settled && topUpTotal[acct] != whole) {
			rt.Fatalf("%s: top-up invoices total %d for NT$%s paid", acct, topUpTotal[acct], h.paid[acct])
		}
	}
	return rec
}

// checkAllowedBeyond asserts that every NT$ a top-up invoice billed is
// still billed net of its allowances, or was refunded: what allowances on
// an account's top-up invoices take off beyond the whole NTD refunded (a
// refund allowed, then reversed; an allowance for no refund) is named by
// the reconciliation, with live allowances of the account's to void that
// take it off, and the account is asked for no allowance at once.
func (h *history) checkAllowedBeyond(rec Reconciliation) {
	total, allowed := map[string]int64{}, map[string]int64{}
	live := map[string]string{} // live allowance number → account
	for _, inv := range h.live() {
		if inv.TopUpRef == "" {
			continue
		}
		total[inv.AccountID] += inv.Total
		for _, a := range inv.Allowances {
			if !a.Voided {
				allowed[inv.AccountID] += a.Sales + a.Tax
				live[a.Number] = inv.AccountID
			}
		}
	}
	named := map[string]Refund{}
	for _, r := range rec.Refunds {
		named[r.AccountID] = r
		if r.Beyond > 0 && r.ToAllow > 0 {
			h.rt.Fatalf("%s: NT$%d to allow and NT$%d allowed beyond refunds at once", r.AccountID, r.ToAllow, r.Beyond)
		}
		voids := int64(0)
		for _, a := range r.ToVoid {
			if live[a.Number] != r.AccountID {
				h.rt.Fatalf("%s: allowance %s to void is no live allowance on its top-up invoices", r.AccountID, a.Number)
			}
			delete(live, a.Number) // each once
			voids += a.Amount
		}
		if voids < r.Beyond || (r.Beyond == 0 && len(r.ToVoid) > 0) {
			h.rt.Fatalf("%s: NT$%d allowed beyond refunds, allowances of NT$%d to void: %+v", r.AccountID, r.Beyond, voids, r.ToVoid)
		}
	}
	for _, acct := range accounts {
		refunded := h.refunded[acct].Floor().IntPart()
		net := total[acct] - allowed[acct]
		if net+min(allowed[acct], refunded)+named[acct].Beyond != total[acct] {
			h.rt.Fatalf("%s: top-up invoices bill NT$%d, NT$%d net of allowances; NT$%s of paid credit refunded, NT$%d named as allowed beyond refunds",
				acct, total[acct], net, h.refunded[acct], named[acct].Beyond)
		}
	}
}

// checkPaymentsInTheirMonth asserts that each payment is invoiced once, in
// its own month: a top-up invoice bills one payment, with the fractions of
// NT$1 carried to it from earlier ones, and counts in its month; and a
// re-issue bills what its voided invoice billed, also when later payments
// came in before it (serve stopped).
func (h *history) checkPaymentsInTheirMonth() {
	for _, inv := range h.svc.Invoices("", "") {
		if inv.TopUpRef == "" {
			continue
		}
		set := strings.Join(inv.TopUps, " ")
		for _, ref := range inv.TopUps {
			if first, ok := h.billedWith[ref]; !ok {
				h.billedWith[ref] = set
			} else if first != set {
				h.rt.Fatalf("invoice %s bills top-ups %s; %s was invoiced with %s", inv.Number, set, ref, first)
			}
		}
		if inv.Voided {
			continue
		}
		month := h.svc.InvoiceMonth(inv)
		for i, ref := range inv.TopUps {
			t := h.topUpOf(inv.AccountID, ref)
			if t.month != month && (i == len(inv.TopUps)-1 || t.amount.GreaterThanOrEqual(decimal.NewFromInt(1))) {
				h.rt.Fatalf("invoice %s counts in %s and bills top-up %s, NT$%s paid in %s", inv.Number, month, ref, t.amount, t.month)
			}
		}
	}
}

// topUpOf is what the test recorded of a payment; of money returned,
// invoiced as one, what the ledger did.
func (h *history) topUpOf(acct, ref string) topUpRecord {
	if t, ok := h.topUps[ref]; ok {
		return t
	}
	h.svc.mu.Lock()
	defer h.svc.mu.Unlock()
	t := h.svc.l.findTopUp(acct, ref)
	if t == nil {
		h.rt.Fatalf("no top-up %s of %s", ref, acct)
	}
	return topUpRecord{t.Month(), t.Amount.Decimal()}
}

// TestInvoicedEqualsUsed generates histories of usage across Taipei month
// boundaries, early issues, closes, late usage, voids and special voids
// past the filing deadline, allowances and their
// voids, refunds allowed then reversed, top-ups with fractions, accounts moving between prepaid and
// postpaid plans, and serve stopped (payments and voids waiting for their
// invoices), and checks after every step that invoiced + pending = used
// with every pending amount named, that no usage or top-up is on two live
// invoices, that each payment is invoiced in its own month and re-issued
// alone, that allowances never exceed their invoice, and that those on
// top-up invoices beyond the refunds are named to void. At the
// end, everything due is invoiced, a fresh reader of the store reconciles
// to the same figures, and the read models rebuilt as `replay` does agree
// with the ledger's net per month and with the test's usage and balances.
func TestInvoicedEqualsUsed(t *testing.T) {
	base := t.TempDir()
	n, special, paidBack, b2cRefused, b2cAllowed, voidsLess, allowedBeyond := 0, 0, 0, 0, 0, 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		h, done := runHistory(t, rt, base)
		defer done()
		special += h.specialVoids
		paidBack += h.paidBack
		b2cRefused += h.b2cRefused
		b2cAllowed += h.b2cAllowed
		voidsLess += h.voidsLess
		allowedBeyond += h.allowedBeyond
	})
	t.Logf("%d histories, %d special voids, %d reversals that put paid credit back, %d B2C allowances refused before filing and %d issued after, %d voids taking an amount off the re-issue, %d reversals leaving allowances beyond refunds",
		n, special, paidBack, b2cRefused, b2cAllowed, voidsLess, allowedBeyond)
	// Allowances on invoices without a 統一編號 are refused before their
	// period is filed, and issued after: a hundred histories do both.
	if n >= 100 && (b2cRefused == 0 || b2cAllowed == 0) {
		t.Errorf("%d histories: %d B2C allowances refused before filing, %d issued after", n, b2cRefused, b2cAllowed)
	}
	if n >= 100 && voidsLess == 0 {
		t.Errorf("%d histories took nothing off a re-issue", n)
	}
	// The mistake step allows a refund before its reversal: a hundred
	// histories reverse a few refunds whose allowance then allows beyond
	// the refunds.
	if n >= 100 && allowedBeyond == 0 {
		t.Errorf("%d histories left no allowance beyond refunds after a reversal", n)
	}
	// The mistake step makes a hundred histories reverse paid credit
	// fifty times or more.
	if n >= 100 && paidBack == 0 {
		t.Errorf("%d histories reversed no adjustment that took paid credit", n)
	}
	// A hundred histories record about a quarter as many special voids:
	// none means that the step never gets past a filing deadline.
	if n >= 100 && special == 0 {
		t.Errorf("%d histories recorded no special void", n)
	}
}

// runHistory runs one random history to its end: random steps, each
// followed by the invariants' check, then the settling close, the final
// check and a fresh reader's reconciliation. done closes and removes it.
func runHistory(t *testing.T, rt *rapid.T, base string) (*history, func()) {
	dir, err := os.MkdirTemp(base, "history-")
	if err != nil {
		rt.Fatal(err)
	}
	h := newHistory(t, rt, dir)
	h.dir = dir
	done := func() { h.store.Close(); os.RemoveAll(dir) }
	actions := map[string]func(*rapid.T){
		"advance": h.advance, "use": h.use, "issue": h.issue, "close": h.close, "topUp": h.topUp,
		"void": h.void, "voidLess": h.voidMonthlyLess, "specialVoid": h.specialVoid, "allowance": h.allowance, "voidAllowance": h.voidAllowance, "plan": h.plan,
		"adjust": h.adjust, "serve": h.serve, "reverse": h.reverse, "mistake": h.mistake,
	}
	names := make([]string, 0, len(actions))
	for k := range actions {
		names = append(names, k)
	}
	sort.Strings(names)
	steps := rapid.IntRange(5, 40).Draw(rt, "steps")
	for i := 0; i < steps; i++ {
		name := rapid.SampledFrom(append(names, "use", "use", "advance")).Draw(rt, "action")
		actions[name](rt)
		h.check(false)
	}
	// Settle: January's close bills every earlier month, and the
	// top-ups are invoiced.
	h.clock.Set(historyEnd)
	h.close(rt)
	h.stopped = false
	h.invoiceTopUps()
	live := h.check(true)

	fresh, err := New(h.store, Config{Seller: DevSeller(), Now: h.clock.Now})
	if err != nil {
		rt.Fatal(err)
	}
	again, err := fresh.Reconcile(h.ctx, "")
	if err != nil {
		rt.Fatal(err)
	}
	if fmt.Sprint(again.Totals) != fmt.Sprint(live.Totals) || len(again.Rows) != len(live.Rows) {
		rt.Fatalf("a fresh reader reconciles to %+v, the live service to %+v", again.Totals, live.Totals)
	}
	h.checkReplay()
	return h, done
}

// rapidTB lets the PDF read-back helpers, written for testing.TB, fail the
// rapid check (which then shrinks the history) instead of the whole test.
type rapidTB struct {
	testing.TB
	rt  *rapid.T
	dir string
}

func (r rapidTB) Helper()                           {}
func (r rapidTB) Errorf(format string, args ...any) { r.rt.Errorf(format, args...) }
func (r rapidTB) Error(args ...any)                 { r.rt.Error(args...) }
func (r rapidTB) Fatalf(format string, args ...any) { r.rt.Fatalf(format, args...) }
func (r rapidTB) Fatal(args ...any)                 { r.rt.Fatal(args...) }
func (r rapidTB) FailNow()                          { r.rt.FailNow() }
func (r rapidTB) Failed() bool                      { return r.rt.Failed() }
func (r rapidTB) Logf(format string, args ...any)   { r.rt.Logf(format, args...) }

// TempDir is inside the history's folder, removed with it.
func (r rapidTB) TempDir() string {
	d, err := os.MkdirTemp(r.dir, "doc-")
	if err != nil {
		r.rt.Fatal(err)
	}
	return d
}

// TestInvoicedDocumentsAgree runs the histories of TestInvoicedEqualsUsed
// and then reads back every invoice each history issued, voided ones
// included: its lines add up to 銷售額 in the event, on the PDF text
// (pdftotext), in F0401 and in the QR codes decoded from the rendered page
// (pdftoppm, gozxing); and the allowances of each invoice, added up, never
// exceed its sales or tax. Rendering and decoding every proof costs about a
// second, so this runs a twentieth of -rapid.checks histories (at least 5),
// each checked in full: no sampling within a history.
func TestInvoicedDocumentsAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("renders every proof of each history")
	}
	checks := flag.Lookup("rapid.checks")
	old := checks.Value.String()
	n, _ := strconv.Atoi(old)
	if err := checks.Value.Set(strconv.Itoa(max(5, n/20))); err != nil {
		t.Fatal(err)
	}
	defer checks.Value.Set(old)
	base := t.TempDir()
	var histories, documents, allowances int
	rapid.Check(t, func(rt *rapid.T) {
		histories++
		h, done := runHistory(t, rt, base)
		defer done()
		tb := rapidTB{TB: t, rt: rt, dir: h.dir}
		for _, inv := range h.svc.Invoices("", "") {
			checkLinesSum(tb, h.svc, inv, true)
			checkAllowanceItems(tb, h.svc, inv)
			checkAllowanceDocuments(tb, h.svc, inv)
			allowances += len(inv.Allowances)
			as, at := inv.allowed()
			if as > inv.Sales || at > inv.Tax {
				rt.Fatalf("invoice %s (%d + %d) has allowances of %d + %d", inv.Number, inv.Sales, inv.Tax, as, at)
			}
			documents++
		}
	})
	t.Logf("%d histories, %d invoices and %d allowances read back", histories, documents, allowances)
}

// checkAllowanceItems builds the G0401 of every allowance of inv, voided
// ones included, as the outbox writes them: the items of the live ones,
// added up per line, never exceed the line, and reach it when the
// allowances take all the invoice bills.
func checkAllowanceItems(t testing.TB, svc *Service, inv Invoice) {
	t.Helper()
	inv = whole(t, svc, inv)
	took := make([]decimal.Decimal, len(inv.Lines))
	for i, a := range inv.Allowances {
		m, err := mig.BuildG0401(allowanceDoc(inv.InvoiceIssued, inv.Allowances, i), svc.seller.MIG())
		if err != nil {
			t.Fatalf("G0401 of %s: %v", a.Number, err)
		}
		if a.Voided {
			continue
		}
		for _, it := range m.Details {
			n, err := strconv.Atoi(it.OriginalSequenceNumber)
			if err != nil || n < 1 || n > len(inv.Lines) {
				t.Fatalf("G0401 of %s names line %q of %d", a.Number, it.OriginalSequenceNumber, len(inv.Lines))
			}
			took[n-1] = took[n-1].Add(decimal.RequireFromString(it.Amount))
		}
	}
	allowed := len(inv.Allowances) > 0 && !inv.Voided && inv.Net() == 0
	for i, l := range inv.Lines {
		if took[i].GreaterThan(l.Amount) || (allowed && !took[i].Equal(l.Amount)) {
			t.Fatalf("%s line %d of NT$%s: its live allowances' G0401 items take NT$%s (net %d)", inv.Number, i+1, l.Amount, took[i], inv.Net())
		}
	}
}

// checkReplay rebuilds the read models from the store, as `routefree
// replay` does, and checks them against the invoicing ledger and the
// test's own figures: each month's net invoiced (the dashboard's and
// replay's), each account's usage by Taipei month, and each balance.
func (h *history) checkReplay() {
	rt := h.rt
	f, err := projections.Replay(h.ctx, h.store, nil)
	if err != nil {
		rt.Fatal(err)
	}
	net := map[string]int64{}
	for _, inv := range h.svc.Invoices("", "") {
		net[h.svc.InvoiceMonth(inv)] += inv.Net() // a top-up's, in its month of payment
	}
	for m := range f.InvoiceTotals {
		if _, ok := net[m]; !ok {
			net[m] = 0
		}
	}
	for m, n := range net {
		if f.InvoiceTotals[m] != n {
			rt.Fatalf("%s: replay's net invoiced NT$%d, the ledger's NT$%d", m, f.InvoiceTotals[m], n)
		}
	}
	for k, cost := range h.all {
		if got := f.MonthlyByAccount[k[1]][k[0]]; !got.Equal(cost) {
			rt.Fatalf("%s %s: replay's usage %s, the test's %s", k[0], k[1], got, cost)
		}
	}
	for _, acct := range accounts {
		if got := f.Balances[acct]; !got.Equal(h.balance[acct]) {
			rt.Fatalf("%s: replay's balance %s, the test's %s", acct, got, h.balance[acct])
		}
	}
}
