package console

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"golang.org/x/text/width"

	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/projections"
)

// Finance and auditors read the customers' checkouts: to answer "I paid
// but was not credited", an account's checkouts, and everyone's by state,
// say where each trade stands, when it was paid, and the top-up and
// invoice it led to. The pages only read: a payment ECPay never notified
// is recorded by hand on the account page, as any other top-up.

func init() {
	for k, v := range map[string][2]string{
		"title.checkouts":     {"付款紀錄", "Checkouts"},
		"nav.checkouts":       {"付款紀錄", "Checkouts"},
		"pay.checkouts":       {"線上付款紀錄", "Online checkouts"},
		"pay.checkouts.hint":  {"客戶以信用卡或 ATM 儲值的每筆訂單。已付款者會記入儲值，並於付款時開立發票（支付已開立月結發票之用量者除外）；逾期或失敗者未入帳，客戶須重新儲值；已另行入帳者，其訂單編號已由財務人工登錄為另一帳戶的付款，此訂單不再收款。", "Every card and ATM top-up a customer started. A paid one is credited and invoiced at payment (but for what pays usage a monthly invoice already bills); an expired or failed one credited nothing, and the customer tops up again; one settled otherwise has its trade number recorded by hand as another account's payment, and takes no payment any more."},
		"pay.state.paid":      {"已付款", "Paid"},
		"pay.state.pending":   {"等待付款", "Pending"},
		"pay.state.expired":   {"已逾期", "Expired"},
		"pay.state.failed":    {"付款失敗", "Failed"},
		"pay.state.otherwise": {"已另行入帳", "Settled otherwise"},
		// The account that holds the trade number of a checkout settled otherwise.
		"pay.otherwise.on": {"其訂單編號已登錄於帳戶", "its trade number is recorded on account"},
		// Its ATM account, which finance reads as evidence; it takes no transfer.
		"pay.atm.otherwiseaccount": {"已另行入帳訂單的帳號", "the account of a checkout settled otherwise"},
		"pay.failed":               {"付款失敗，請重新儲值", "Failed: top up again"},
		// A failed ATM checkout's account, which finance reads as evidence.
		"pay.atm.failedaccount": {"付款失敗訂單的帳號", "the failed checkout's account"},
		"pay.created":           {"建立時間", "Created"},
		"pay.paidat":            {"付款時間", "Paid at"},
		"pay.topup":             {"儲值紀錄", "Top-up"},
		"pay.invoices":          {"發票", "Invoice"},
		"pay.event":             {"事件", "Event"},
	} {
		messages[k] = v
	}
}

// checkoutInvoice is an invoice that bills a checkout's top-up.
type checkoutInvoice struct {
	Number, Ref, Status string
}

// checkoutRow is a checkout as finance and auditors read it.
type checkoutRow struct {
	paymentRow
	Organisation string `json:"organisation"`
	// OtherwiseAccount is the account that holds the trade number of a
	// checkout settled otherwise: finance reads it, the customer does not.
	OtherwiseAccount string            `json:"otherwise_account,omitempty"`
	Invoices         []string          `json:"invoices"`
	Billed           []checkoutInvoice `json:"-"`
}

// InvoiceNumbers is the row's invoices as one attribute value.
func (r checkoutRow) InvoiceNumbers() string { return strings.Join(r.Invoices, " ") }

// checkoutRows gives each checkout its state at now, its account's name
// and the invoices of its top-up, among invs.
func (s *server) checkoutRows(ps []payments.Payment, invs []projections.InvoiceRecord, now time.Time) []checkoutRow {
	type topUp struct{ account, ref string }
	billing := map[topUp][]checkoutInvoice{}
	for _, inv := range invs {
		refs := inv.TopUps
		if !slices.Contains(refs, inv.TopUpRef) {
			refs = append([]string{inv.TopUpRef}, refs...)
		}
		for _, ref := range refs {
			if ref != "" {
				// A reference in either case or width is one payment (a
				// trade number finance typed by hand as rf…); trade
				// numbers are upper case.
				k := topUp{inv.AccountID, strings.ToUpper(width.Narrow.String(ref))}
				billing[k] = append(billing[k], checkoutInvoice{Number: inv.Number, Ref: inv.Ref(), Status: inv.Status})
			}
		}
	}
	out := make([]checkoutRow, len(ps))
	for i, r := range paymentRows(s.deps.Payments, ps, now) {
		row := checkoutRow{paymentRow: r, Invoices: []string{}, OtherwiseAccount: r.Payment.OtherwiseAccount}
		if a, ok := s.deps.Views.Account(r.AccountID); ok {
			row.Organisation = a.Organisation
		}
		if r.Paid {
			row.Billed = billing[topUp{r.AccountID, r.TradeNo}]
			for _, b := range row.Billed {
				row.Invoices = append(row.Invoices, b.Number)
			}
		}
		out[i] = row
	}
	return out
}

// invoiceRecords are the invoices of an account ("": of everyone).
func (s *server) invoiceRecords(account string) []projections.InvoiceRecord {
	if s.deps.Models.Invoices == nil {
		return nil
	}
	return s.deps.Models.Invoices.List("", account)
}

var checkoutList = listSpec[checkoutRow]{
	text: func(r checkoutRow) string {
		return strings.Join(append([]string{r.TradeNo, r.AccountID, r.Organisation, r.VAccount, r.Amount.String()}, r.Invoices...), " ")
	},
	filters: map[string]func(checkoutRow) string{
		"status": func(r checkoutRow) string { return r.Status },
		"method": func(r checkoutRow) string { return r.Method },
	},
	sorts: map[string]func(a, b checkoutRow) int{
		"date":    times(func(r checkoutRow) time.Time { return r.StartedAt }),
		"paid":    times(func(r checkoutRow) time.Time { return r.PaidAt }),
		"account": by(func(r checkoutRow) string { return r.AccountID }),
		"amount":  decimals(func(r checkoutRow) decimal.Decimal { return r.Amount }),
	},
	sort: "date", desc: true,
	keepHash: "checkouts",
}

// checkoutStates are the states the pages filter by, in the order shown.
var checkoutStates = []string{payments.StatusPending, payments.StatusPaid, payments.StatusExpired, payments.StatusFailed, payments.StatusOtherwise}

// allCheckoutsPage lists every account's checkouts.
func (s *server) allCheckoutsPage(c echo.Context) error {
	rows := s.checkoutRows(s.deps.Payments.View().All(), s.invoiceRecords(""), s.deps.now())
	rows, l := checkoutList.apply(c, rows)
	p := s.newPage(c, "title.checkouts", map[string]any{"Checkouts": rows, "List": l, "States": checkoutStates})
	return s.render(c, http.StatusOK, "checkouts", p)
}

// accountCheckoutsPage lists one account's checkouts.
func (s *server) accountCheckoutsPage(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	rows := s.checkoutRows(s.deps.Payments.View().Payments(a.ID), s.invoiceRecords(a.ID), s.deps.now())
	rows, l := checkoutList.apply(c, rows)
	p := s.newPage(c, "title.checkouts", map[string]any{"Checkouts": rows, "List": l, "States": checkoutStates, "Account": s.accountJSON(a)})
	p.Subtitle = a.Organisation
	return s.render(c, http.StatusOK, "checkouts", p)
}

// apiAllPayments lists every account's checkouts, or those of one state
// (?status=) or account (?account=).
func (s *server) apiAllPayments(c echo.Context) error {
	status, account := c.QueryParam("status"), c.QueryParam("account")
	if status != "" && !slices.Contains(checkoutStates, status) {
		return echo.NewHTTPError(http.StatusBadRequest, "status must be pending, paid, expired, failed or otherwise")
	}
	ps := s.deps.Payments.View().All()
	if account != "" {
		ps = s.deps.Payments.View().Payments(account)
	}
	rows := s.checkoutRows(ps, s.invoiceRecords(account), s.deps.now())
	out := make([]checkoutRow, 0, len(rows))
	for _, r := range rows {
		if status == "" || r.Status == status {
			out = append(out, r)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// apiAccountPayments is an account's checkouts: to its owner as the
// top-up page lists them, to finance and auditors with their invoices.
func (s *server) apiAccountPayments(c echo.Context) error {
	if principal(c).Staff {
		a, err := s.account(c, c.Param("id"))
		if err != nil {
			return err
		}
		rows := s.checkoutRows(s.deps.Payments.View().Payments(a.ID), s.invoiceRecords(a.ID), s.deps.now())
		return c.JSON(http.StatusOK, map[string]any{"data": rows})
	}
	return s.apiPayments(c)
}
