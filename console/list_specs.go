package console

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/projections"
)

// How each list of the console is searched, filtered and sorted.

func decimals[T any](key func(T) decimal.Decimal) func(a, b T) int {
	return func(a, b T) int { return key(a).Cmp(key(b)) }
}

func times[T any](key func(T) time.Time) func(a, b T) int {
	return func(a, b T) int { return key(a).Compare(key(b)) }
}

func keyStatus(k KeyJSON) string {
	switch {
	case k.Revoked:
		return "revoked"
	case k.Disabled:
		return "disabled"
	case k.Expired:
		return "expired"
	}
	return "active"
}

var keyList = listSpec[KeyJSON]{
	name: "keys",
	text: func(k KeyJSON) string {
		return strings.Join(append([]string{k.KeyID, k.Name, k.Prefix}, k.Models...), " ")
	},
	filters: map[string]func(KeyJSON) string{"status": keyStatus},
	sorts: map[string]func(a, b KeyJSON) int{
		"name":  by(func(k KeyJSON) string { return k.Name }),
		"limit": decimals(func(k KeyJSON) decimal.Decimal { return k.SpendLimit }),
	},
	keepHash: "keys",
}

var topUpList = listSpec[TopUp]{
	name: "topups",
	text: func(t TopUp) string {
		return t.Reference + " " + t.Reason + " " + t.Description + " " + t.Amount.String()
	},
	filters: map[string]func(TopUp) string{"method": func(t TopUp) string { return t.Method }},
	sorts: map[string]func(a, b TopUp) int{
		"date":   times(func(t TopUp) time.Time { return t.At }),
		"amount": decimals(func(t TopUp) decimal.Decimal { return t.Amount }),
	},
	sort: "date", desc: true,
	keepHash: "topups",
}

var accountInvoiceList = listSpec[projections.InvoiceRecord]{
	name:    "inv",
	text:    func(r projections.InvoiceRecord) string { return r.Number + " " + r.Month + " " + r.BuyerName },
	filters: map[string]func(projections.InvoiceRecord) string{"status": func(r projections.InvoiceRecord) string { return r.Status }},
	sorts: map[string]func(a, b projections.InvoiceRecord) int{
		"number": by(func(r projections.InvoiceRecord) string { return r.Number }),
		"month":  by(func(r projections.InvoiceRecord) string { return r.Month }),
		"total":  by(func(r projections.InvoiceRecord) int64 { return r.Total }),
	},
	sort: "month", desc: true,
	keepHash: "account-invoices",
}

func invoiceStatus(r InvoiceRow) string {
	if r.Voided {
		return "voided"
	}
	return "issued"
}

var invoiceList = listSpec[InvoiceRow]{
	text: func(r InvoiceRow) string {
		return strings.Join([]string{r.Number, r.AccountID, r.BuyerName, r.Kind, r.VoidReason}, " ")
	},
	filters: map[string]func(InvoiceRow) string{
		"status": invoiceStatus,
		"kind":   func(r InvoiceRow) string { return r.Kind },
	},
	sorts: map[string]func(a, b InvoiceRow) int{
		"number":  by(func(r InvoiceRow) string { return r.Number }),
		"date":    times(func(r InvoiceRow) time.Time { return r.IssuedAt }),
		"account": by(func(r InvoiceRow) string { return r.AccountID }),
		"buyer":   by(func(r InvoiceRow) string { return r.BuyerName }),
		"total":   by(func(r InvoiceRow) int64 { return r.Total }),
		"net":     by(func(r InvoiceRow) int64 { return r.Net }),
	},
	sort:     "date",
	keepHash: "invoices",
}

func quoteStatus(q invoicing.Quote) string { return string(q.Status) }

var quoteList = listSpec[invoicing.Quote]{
	text: func(q invoicing.Quote) string {
		id := ""
		if q.Contract != nil {
			id = q.Contract.ContractID
		}
		return strings.Join([]string{q.QuoteID, q.Agency, q.AgencyTaxID, q.Contact, id}, " ")
	},
	filters: map[string]func(invoicing.Quote) string{"status": quoteStatus},
	sorts: map[string]func(a, b invoicing.Quote) int{
		"issued": times(func(q invoicing.Quote) time.Time { return q.IssuedAt }),
		"agency": by(func(q invoicing.Quote) string { return q.Agency }),
		"total":  by(func(q invoicing.Quote) int64 { return q.Total }),
	},
	sort:     "issued",
	desc:     true,
	keepHash: "quotes",
}

// paymentRow is a checkout with where it stands when the page is read.
type paymentRow struct {
	payments.Payment
	Status string `json:"status"`
}

// paymentRows gives each checkout its status at now.
func paymentRows(svc *payments.Service, ps []payments.Payment, now time.Time) []paymentRow {
	out := make([]paymentRow, len(ps))
	for i, p := range ps {
		out[i] = paymentRow{Payment: p, Status: svc.Status(p, now)}
	}
	return out
}

var paymentList = listSpec[paymentRow]{
	text:    func(p paymentRow) string { return p.TradeNo + " " + p.VAccount + " " + p.Amount.String() },
	filters: map[string]func(paymentRow) string{"status": func(p paymentRow) string { return p.Status }, "method": func(p paymentRow) string { return p.Method }},
	sorts: map[string]func(a, b paymentRow) int{
		"date":   times(func(p paymentRow) time.Time { return p.StartedAt }),
		"amount": decimals(func(p paymentRow) decimal.Decimal { return p.Amount }),
	},
	sort: "date", desc: true,
	keepHash: "payments",
}

var refusedList = listSpec[payments.Refused]{
	text: func(r payments.Refused) string {
		parts := []string{r.TradeNo, r.Endpoint, r.Reason}
		for k, v := range r.Fields {
			parts = append(parts, k+"="+v)
		}
		return strings.Join(parts, " ")
	},
	filters: map[string]func(payments.Refused) string{"endpoint": func(r payments.Refused) string { return r.Endpoint }},
	sorts: map[string]func(a, b payments.Refused) int{
		"date":  times(func(r payments.Refused) time.Time { return r.At }),
		"trade": by(func(r payments.Refused) string { return r.TradeNo }),
	},
	sort: "date", desc: true,
	keepHash: "refused",
}

// price orders the models page's prices, which it keeps as text.
func price(key func(modelRow) string) func(a, b modelRow) int {
	return decimals(func(m modelRow) decimal.Decimal { d, _ := decimal.NewFromString(key(m)); return d })
}

var modelList = listSpec[modelRow]{
	size: 100,
	text: func(m modelRow) string { return m.ID + " " + m.Name + " " + m.Modalities },
	sorts: map[string]func(a, b modelRow) int{
		"id":      by(func(m modelRow) string { return m.ID }),
		"name":    by(func(m modelRow) string { return m.Name }),
		"context": by(func(m modelRow) int64 { return m.Context }),
		"input":   price(func(m modelRow) string { return m.Input }),
		"output":  price(func(m modelRow) string { return m.Output }),
	},
	keepHash: "models",
}

var reconList = listSpec[invoicing.ReconcileRow]{
	name: "recon",
	text: func(r invoicing.ReconcileRow) string {
		return strings.Join(append(append([]string{r.AccountID, r.Reason}, r.Invoices...), r.Voided...), " ")
	},
	filters: map[string]func(invoicing.ReconcileRow) string{
		"basis":   func(r invoicing.ReconcileRow) string { return r.Basis },
		"pending": func(r invoicing.ReconcileRow) string { return strconv.FormatBool(!r.Pending.IsZero()) },
	},
	sorts: map[string]func(a, b invoicing.ReconcileRow) int{
		"account":  by(func(r invoicing.ReconcileRow) string { return r.AccountID }),
		"used":     decimals(func(r invoicing.ReconcileRow) decimal.Decimal { return r.Used }),
		"invoiced": decimals(func(r invoicing.ReconcileRow) decimal.Decimal { return r.Invoiced }),
		"pending":  decimals(func(r invoicing.ReconcileRow) decimal.Decimal { return r.Pending }),
	},
	keepHash: "reconciliation",
}
