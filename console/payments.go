package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay"
	"github.com/routefree/routefree/projections"
)

// Top-ups by card and ATM through the payment provider: the account owner
// (a management key) starts a checkout on the console's top-up page or by
// the API; finance and auditors read the provider's refused notifications.
// Without Deps.Payments (no merchant configured) none of this is mounted.
func (s *server) registerPayments(e *echo.Echo) {
	if s.deps.Payments == nil {
		return
	}
	owner := auth.RequireKeyManager(s.auth)
	books := auth.Require(s.auth, false, roleFinance, roleAuditor)

	api := e.Group("/admin/api", securityHeaders, s.dropUntrustedForwarding)
	api.GET("/accounts/:id/payments", s.apiAccountPayments, auth.RequireKeyManager(s.auth, roleFinance, roleAuditor))
	api.POST("/accounts/:id/payments", s.apiCheckout, owner)
	api.GET("/payments", s.apiAllPayments, books)
	api.GET("/payments/refused", s.apiRefusedPayments, books)

	g := e.Group("/console", securityHeaders, s.dropUntrustedForwarding, s.htmlErrors)
	g.GET("/accounts/:id/payments", s.paymentsPage, owner)
	g.POST("/accounts/:id/payments", s.checkoutForm, owner)
	g.GET("/accounts/:id/checkouts", s.accountCheckoutsPage, books)
	g.GET("/payments", s.allCheckoutsPage, books)
	g.GET("/payments/refused", s.refusedPaymentsPage, books)
}

func init() {
	for k, v := range map[string][2]string{
		"title.payments":       {"儲值", "Top up"},
		"title.checkout":       {"前往付款", "Checkout"},
		"title.refused":        {"未入帳的付款通知", "Refused payment notifications"},
		"nav.topup":            {"儲值", "Top up"},
		"nav.refused":          {"付款通知", "Payment notices"},
		"pay.amount":           {"儲值金額（新臺幣，整數）", "Amount (NTD, whole dollars)"},
		"pay.card":             {"信用卡", "Credit card"},
		"pay.atm":              {"ATM 虛擬帳號轉帳", "ATM transfer to a virtual account"},
		"pay.submit":           {"前往綠界付款", "Pay with ECPay"},
		"pay.max":              {"單筆上限", "At most"},
		"pay.atm.range":        {"ATM 轉帳每筆", "ATM transfers of"},
		"pay.history":          {"付款紀錄", "Payments"},
		"pay.trade":            {"訂單編號", "Trade number"},
		"pay.paid":             {"已入帳", "Credited"},
		"pay.pending":          {"等待付款", "Awaiting payment"},
		"pay.expired":          {"已逾期，請重新儲值", "Expired: top up again"},
		"pay.otherwise":        {"已另行處理，請勿再付款", "Settled otherwise: do not pay it"},
		"pay.atm.account":      {"轉帳帳號", "Transfer to"},
		"pay.atm.expire":       {"繳費期限", "Pay by"},
		"pay.atm.hint":         {"請於期限前轉帳至下列虛擬帳號；入帳後餘額與發票自動更新。", "Transfer to the virtual account below before it expires; your balance and invoice follow automatically."},
		"pay.redirect":         {"正在前往綠界付款頁面…", "Taking you to ECPay's payment page…"},
		"pay.continue":         {"繼續", "Continue"},
		"pay.repeated":         {"此儲值表單先前已送出，未再建立訂單。", "This top-up form was already sent: no second checkout was started."},
		"pay.started":          {"該表單已開始的訂單：", "The checkout it started:"},
		"pay.started.hint":     {"若綠界付款頁已開啟，請在該頁完成付款；入帳後此處顯示已入帳。綠界的訂單編號只能使用一次，這筆訂單無法再送往綠界：若付款頁未開啟，或未付款即離開，它將逾期且不會扣款，請填寫下方表單重新儲值。ATM 轉帳的虛擬帳號取得後列在付款紀錄中。", "If ECPay's payment page opened, finish paying there; once paid, the checkout reads credited here. ECPay takes a trade number once, so this checkout cannot be sent to ECPay again: if its page did not open, or you left it without paying, it expires without charging anything; fill in the form below to top up again. An ATM transfer's virtual account, once ECPay assigns it, is listed under Payments."},
		"pay.invoice":          {"付款完成後，發票依您設定的載具或統一編號開立。", "Once paid, the invoice is issued to your carrier or 統一編號."},
		"pay.invoice.to":       {"此次付款的發票開立至", "This payment's invoice goes to"},
		"pay.invoice.change":   {"變更", "Change"},
		"pay.refused.reason":   {"原因", "Reason"},
		"pay.refused.endpoint": {"通知", "Notification"},
		"pay.refused.fields":   {"內容", "Fields"},
		"pay.refused.hint":     {"經簽章驗證但無法對應訂單的通知，請人工核對；系統不會自動入帳。", "Signed notifications that match no checkout: follow them up by hand; nothing was credited."},
	} {
		messages[k] = v
	}
}

// paymentsData is the top-up page: the balance, the form and the
// account's checkouts with their ATM accounts.
func (s *server) paymentsData(c echo.Context, a AccountInfo) (map[string]any, error) {
	max := s.deps.Commands.MaxTopUp
	if !max.IsPositive() {
		max = commands.DefaultMaxTopUp
	}
	all := paymentRows(s.deps.Payments, s.deps.Payments.View().Payments(a.ID), s.deps.now())
	var started *paymentRow // the account's checkout a resent form had started
	for i := range all {
		if all[i].TradeNo == c.QueryParam(startedParam) {
			started = &all[i]
		}
	}
	rows, l := paymentList.apply(c, all)
	// Where the payment's invoice goes: it is issued at payment to the
	// details in force then, so the customer sees them before paying.
	to, err := accountInvoiceTo(c.Request().Context(), s.deps.Store, a.ID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Account": s.accountJSON(a), "Payments": rows, "Max": max, "List": l, "Started": started, "InvoiceTo": to,
		"ATMMin": decimal.NewFromInt(ecpay.ATMMinAmount), "ATMMax": decimal.Min(max, decimal.NewFromInt(ecpay.ATMMaxAmount)),
		"Once": randomToken()}, nil
}

func (s *server) paymentsPage(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	data, err := s.paymentsData(c, a)
	if err != nil {
		return err
	}
	p := s.newPage(c, "title.payments", data)
	p.Subtitle = a.Organisation
	return s.render(c, http.StatusOK, "payments", p)
}

// checkoutForm records the checkout and answers with the form that the
// browser posts to ECPay (checkout.js submits it at once). The page's CSP
// lets that one form post to the provider's cashier.
//
// The same form sent again (a double click, the back button and a resend)
// starts no second checkout, which could be paid as well. Nor does it post
// the first one's form again: ECPay takes a MerchantTradeNo once and shows
// its duplicate-order error to a second post. It leads to the top-up page,
// which shows the checkout started and says how to go on.
func (s *server) checkoutForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	amount, err := formDecimal(c, "amount")
	if err != nil {
		return err
	}
	var co payments.Checkout
	var pending *payments.PendingError
	repeatedTo, err := s.makeOnce(c, func() (string, error) {
		start := s.deps.Payments.StartUnlessPending
		if c.FormValue(confirmField) == "yes" {
			start = s.deps.Payments.Start
		}
		var err error
		co, err = start(c.Request().Context(), a.ID, amount, c.FormValue("method"), requestBase(c))
		if errors.As(err, &pending) {
			return "", err // the form's token stays free for the confirmation
		}
		if err != nil {
			return "", apiError(err)
		}
		return startedPath(a.ID, co.TradeNo), nil
	})
	if pending != nil {
		return s.confirmSecondCheckout(c, a, amount, pending.Pending)
	}
	if err != nil {
		return err
	}
	if repeatedTo != "" {
		return c.Redirect(http.StatusSeeOther, withFlash(repeatedTo, "pay.repeated"))
	}
	if u, err := url.Parse(co.Action); err == nil && u.Host != "" {
		c.Response().Header().Set("Content-Security-Policy",
			strings.Replace(ContentSecurityPolicy, "form-action 'self'", "form-action 'self' "+u.Scheme+"://"+u.Host, 1))
	}
	p := s.newPage(c, "title.checkout", co)
	p.Subtitle = a.Organisation
	return s.render(c, http.StatusOK, "checkout", p)
}

func init() {
	for k, v := range map[string][2]string{
		"confirm.checkout":      {"此帳戶另有一筆儲值訂單等待付款，確定再開始一筆？", "Another checkout of this account awaits its payment: start a second one?"},
		"confirm.checkout.note": {"若該訂單的綠界付款頁仍開在另一個分頁或視窗，請在該頁完成付款即可。兩筆都付款，兩筆都會入帳。", "If that checkout's ECPay page is still open in another tab or window, finish paying there instead. If both are paid, both are credited."},
		"pay.pending.trade":     {"等待付款的訂單", "Checkout awaiting payment"},
		"pay.pending.amount":    {"其金額", "Its amount"},
		"pay.pending.started":   {"開始於（臺北時間）", "Started (Taipei time)"},
		"pay.new.amount":        {"新訂單", "New checkout"},
	} {
		messages[k] = v
	}
}

// confirmSecondCheckout names the pending checkout and asks before starting
// another: both, if paid, are credited. Confirmed, the same form (and its
// one-time token) starts the second checkout.
func (s *server) confirmSecondCheckout(c echo.Context, a AccountInfo, amount decimal.Decimal, pending payments.Payment) error {
	lang := language(c.Response(), c.Request())
	path := "/console/accounts/" + url.PathEscape(a.ID) + "/payments"
	method := c.FormValue("method")
	fields := [][2]string{{"amount", amount.String()}, {"method", method}}
	if tok, err := formToken(c); err == nil {
		fields = append(fields, [2]string{onceField, tok})
	}
	_, err := s.confirmed(c, confirmStep{Action: "confirm.checkout", Note: "confirm.checkout.note",
		Facts: [][2]string{
			{"pay.pending.trade", pending.TradeNo},
			{"pay.pending.amount", money(pending.Amount) + " · " + tr(lang, "method."+pending.Method)},
			{"pay.pending.started", pending.StartedAt.In(projections.Taipei).Format("2006-01-02 15:04")},
			{"pay.new.amount", money(amount) + " · " + tr(lang, "pay."+method)},
		},
		Fields: fields, Post: path, Back: path})
	return err
}

// startedPath is the top-up page pointing at the checkout a form started.
func startedPath(accountID, trade string) string {
	return "/console/accounts/" + url.PathEscape(accountID) + "/payments?" + url.Values{startedParam: {trade}}.Encode()
}

// startedParam names, on the top-up page, the checkout a resent form had
// started.
const startedParam = "started"

// requestBase is the gateway's address as the caller reached it.
func requestBase(c echo.Context) string { return c.Scheme() + "://" + c.Request().Host }

func (s *server) apiPayments(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": paymentRows(s.deps.Payments, s.deps.Payments.View().Payments(a.ID), s.deps.now())})
}

// apiCheckout starts a checkout for an API caller, who posts the fields
// to action from a browser. While another checkout of the account, started
// within the last half hour, awaits its payment, it answers 409 naming
// that one, as the console asks, unless the body says "confirm": true.
func (s *server) apiCheckout(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in struct {
		Amount  commands.Amount `json:"amount"`
		Method  string          `json:"method"`
		Confirm bool            `json:"confirm"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	start := s.deps.Payments.StartUnlessPending
	if in.Confirm {
		start = s.deps.Payments.Start
	}
	co, err := start(c.Request().Context(), a.ID, in.Amount.Decimal, in.Method, requestBase(c))
	var pending *payments.PendingError
	if errors.As(err, &pending) {
		return pendingConflict(c, pending.Pending)
	}
	if err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"data": co})
}

// pendingConflict is the API's 409 for a checkout asked while another
// awaits its payment, in the API's error shape, naming that one in its
// metadata.
func pendingConflict(c echo.Context, p payments.Payment) error {
	started := p.StartedAt.UTC().Format(time.RFC3339)
	msg := fmt.Sprintf("checkout %s of NT$%s (%s), started %s, awaits its payment: send \"confirm\": true to start another (both, if paid, are credited)",
		p.TradeNo, p.Amount, p.Method, started)
	return c.JSON(http.StatusConflict, map[string]any{"error": map[string]any{
		"code": http.StatusConflict, "message": msg, "type": "invalid_request_error",
		"metadata": map[string]any{"pending_checkout": map[string]any{
			"trade_no": p.TradeNo, "amount": p.Amount, "method": p.Method, "started_at": started,
		}},
	}})
}

func (s *server) apiRefusedPayments(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"data": s.deps.Payments.View().Refused()})
}

func (s *server) refusedPaymentsPage(c echo.Context) error {
	rows, l := refusedList.apply(c, s.deps.Payments.View().Refused())
	p := s.newPage(c, "title.refused", map[string]any{"Refused": rows, "List": l})
	return s.render(c, http.StatusOK, "refused", p)
}
