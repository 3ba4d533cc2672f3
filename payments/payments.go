// Package payments lets customers top up by card or ATM transfer through
// ECPay's AIO checkout. A checkout records the trade number it asks ECPay
// for (payment.checkout_started); ECPay's signed server-to-server
// notification of that trade, for that amount, becomes one CreditsToppedUp
// whose reference is the trade number, so a trade credits once however
// often it is notified. Every other notification is refused: the signed
// ones that match nothing are recorded for finance, never guessed.
package payments

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/payments/ecpay"
)

// Provider names the provider in events.
const Provider = "ecpay"

// Paths of ECPay's notifications and of the customer's way back, mounted by
// Register. ECPay must reach the first two from the internet.
const (
	ReturnPath      = "/payments/ecpay/return"
	PaymentInfoPath = "/payments/ecpay/payment-info"
	BackPath        = "/payments/ecpay/back"
)

// EnvPublicURL names the gateway's public address (e.g.
// https://api.example.tw), from which ECPay's ReturnURL and PaymentInfoURL
// are built. Unset, the address the customer's browser used is taken.
const EnvPublicURL = "ROUTEFREE_PUBLIC_URL"

// EnvCardPayWindow names Config.CardPayWindow in the environment, as a
// Go duration (90m, 2h).
const EnvCardPayWindow = "ROUTEFREE_ECPAY_CARD_WINDOW"

// maxCardPayWindow bounds the card window: a week is far beyond any
// cashier session, so a longer one is a typo.
const maxCardPayWindow = 7 * 24 * time.Hour

// Config is the merchant and how ECPay reaches the gateway.
type Config struct {
	Merchant ecpay.Merchant
	// PublicURL is the gateway's public base URL; empty: the checkout
	// request's own.
	PublicURL string
	// ATMExpireDays is how long an ATM virtual account stays open (1-60);
	// zero: 3 days.
	ATMExpireDays int
	// CardPayWindow is how long a card checkout awaits its payment
	// before the customer is told it expired (1 minute to 7 days); zero:
	// DefaultCardPayWindow.
	CardPayWindow time.Duration
	// ConsolePath returns the console page a customer of an account comes
	// back to from ECPay's pages.
	ConsolePath func(accountID string) string
}

// Service starts checkouts and takes ECPay's notifications.
type Service struct {
	store  eventstore.Store
	cmds   *commands.Handler
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	view   *View
	settle func(ctx context.Context, pos eventstore.Position) error
	// trades serialises the notifications of one trade number in this
	// process, so that of racing copies one credits and the others are
	// acknowledged as replays. Across processes the top-up's reference
	// still credits once.
	trades [64]sync.Mutex
}

func (s *Service) lockTrade(trade string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(trade))
	m := &s.trades[h.Sum32()%uint32(len(s.trades))]
	m.Lock()
	return m.Unlock
}

// Deps are what a Service runs on. View must run in the projections runner.
type Deps struct {
	Store    eventstore.Store
	Commands *commands.Handler
	View     *View
	Logger   *slog.Logger
	// WaitFor, when set, lets a notification answer only once the read
	// models show the credit (a projections.Runner's WaitFor).
	WaitFor func(ctx context.Context, pos eventstore.Position) error
}

// New returns a service, or every problem of its configuration at once.
func New(cfg Config, d Deps) (*Service, error) {
	var errs []error
	if err := cfg.Merchant.Validate(); err != nil {
		errs = append(errs, err)
	}
	if d.Store == nil || d.Commands == nil || d.View == nil {
		errs = append(errs, errors.New("payments: Store, Commands and View are required"))
	}
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("payments: %s %q is not an http(s) URL", EnvPublicURL, cfg.PublicURL))
		}
	}
	if cfg.ATMExpireDays < 0 || cfg.ATMExpireDays > 60 {
		errs = append(errs, errors.New("payments: ATM expiry must be 1-60 days"))
	}
	if w := cfg.CardPayWindow; w != 0 && (w < time.Minute || w > maxCardPayWindow) {
		errs = append(errs, fmt.Errorf("payments: %s %s is not between 1m and %s", EnvCardPayWindow, w, maxCardPayWindow))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.CardPayWindow == 0 {
		cfg.CardPayWindow = DefaultCardPayWindow
	}
	if cfg.ATMExpireDays == 0 {
		cfg.ATMExpireDays = 3
	}
	if cfg.ConsolePath == nil {
		cfg.ConsolePath = func(id string) string { return "/console/accounts/" + url.PathEscape(id) + "/payments" }
	}
	s := &Service{store: d.Store, cmds: d.Commands, cfg: cfg, log: d.Logger, now: d.Commands.Now, view: d.View, settle: d.WaitFor}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// View is the service's read model.
func (s *Service) View() *View { return s.view }

// Status says where a checkout stands at now, under the configured card
// window.
func (s *Service) Status(p Payment, now time.Time) string {
	return p.Status(now, s.cfg.CardPayWindow)
}

// Methods a customer chooses.
const (
	ChooseCard = "card"
	ChooseATM  = "atm"
)

// Checkout is the form a customer's browser posts to ECPay.
type Checkout struct {
	TradeNo  string            `json:"trade_no"`
	Amount   decimal.Decimal   `json:"amount"`
	Method   string            `json:"method"` // domain.MethodCard or domain.MethodBankTransfer
	Action   string            `json:"action"` // ECPay's AioCheckOut/V5
	Fields   map[string]string `json:"fields"`
	Endpoint string            `json:"-"`
}

// ErrInvalid marks a checkout the customer must correct.
var ErrInvalid = commands.ErrInvalid

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// maxTopUp is the commands' bound on one top-up.
func (s *Service) maxTopUp() decimal.Decimal {
	if s.cmds.MaxTopUp.IsPositive() {
		return s.cmds.MaxTopUp
	}
	return commands.DefaultMaxTopUp
}

// Start records a checkout of amount for an account, by card or ATM
// (choose), and returns the signed form, whatever other checkout of the
// account awaits its payment. base is the gateway's address as the
// customer reached it, used when no public URL is configured. The actor of
// ctx (the customer's key) is recorded with it.
func (s *Service) Start(ctx context.Context, accountID string, amount decimal.Decimal, choose, base string) (Checkout, error) {
	return s.start(ctx, accountID, amount, choose, base, false)
}

// StartUnlessPending is Start, unless another checkout of the account,
// started within PendingRecent, awaits its payment: then it records
// nothing and returns a *PendingError naming that checkout, for the caller
// to ask whether to start a second. Of checkouts started at once, by any
// number of processes, one starts and the others are refused so.
func (s *Service) StartUnlessPending(ctx context.Context, accountID string, amount decimal.Decimal, choose, base string) (Checkout, error) {
	return s.start(ctx, accountID, amount, choose, base, true)
}

// PendingRecent is how long a checkout awaiting its payment makes
// StartUnlessPending refuse the next: about the time a customer spends on
// ECPay's page. An older checkout was most likely left, and a new one is
// what the customer means.
const PendingRecent = 30 * time.Minute

// PendingError is StartUnlessPending's refusal: Pending is the account's
// newest checkout that awaits its payment.
type PendingError struct {
	Pending Payment
}

func (e *PendingError) Error() string {
	return fmt.Sprintf("checkout %s of NT$%s (%s), started %s, awaits its payment", e.Pending.TradeNo, e.Pending.Amount,
		e.Pending.Method, e.Pending.StartedAt.UTC().Format(time.RFC3339))
}

// startAttempts bounds how often a checkout decides again after another
// landed on its account's stream between its check and its append. The
// one that landed is itself pending, so the second decision refuses.
const startAttempts = 3

func (s *Service) start(ctx context.Context, accountID string, amount decimal.Decimal, choose, base string, alone bool) (Checkout, error) {
	method, pick, err := s.order(amount, choose)
	if err != nil {
		return Checkout{}, err
	}
	if _, _, err := s.cmds.Account(ctx, accountID); err != nil {
		return Checkout{}, err
	}
	pub := strings.TrimRight(s.cfg.PublicURL, "/")
	if pub == "" {
		pub = strings.TrimRight(base, "/")
	}
	var now time.Time
	var trade string
	var res eventstore.AppendResult
	for attempt := 1; ; attempt++ {
		exp := eventstore.Any()
		if alone {
			var pending *Payment
			if exp, pending, err = s.pending(ctx, accountID); err != nil {
				return Checkout{}, err
			}
			if pending != nil {
				return Checkout{}, &PendingError{Pending: *pending}
			}
		}
		now = s.now()
		trade = tradeNo(now)
		ev := &domain.PaymentCheckoutStarted{AccountID: accountID, Provider: Provider, TradeNo: trade, Amount: amount, Method: method}
		domain.Stamp(ctx, ev)
		d, err := commands.Event(domain.EventID(domain.TypePaymentCheckoutStarted, trade), now, ev)
		if err != nil {
			return Checkout{}, err
		}
		res, err = s.store.Append(ctx, domain.CheckoutStream(accountID), exp, d)
		retry := attempt < startAttempts
		switch {
		case errors.Is(err, eventstore.ErrWrongExpectedVersion) && retry:
			continue // another checkout started since the check: decide again
		case errors.Is(err, eventstore.ErrWrongExpectedVersion):
			return Checkout{}, fmt.Errorf("%w: checkouts of %s keep starting at once: %w", commands.ErrConflict, accountID, err)
		case err != nil:
			return Checkout{}, fmt.Errorf("payments: record checkout: %w", err)
		case len(res.Existing) > 0 && retry:
			// The event's ID is the trade number's, stored once: a trade
			// number issued before, to any account, is drawn again.
			continue
		case len(res.Existing) > 0:
			return Checkout{}, fmt.Errorf("payments: trade number %s was issued before", trade)
		}
		break
	}
	s.wait(ctx, res.Position)
	fields, err := s.cfg.Merchant.Fields(ecpay.Order{
		TradeNo: trade, Date: now, Amount: amount.IntPart(),
		Description: "RouteFree credit top-up", ItemName: "RouteFree 預付額度 NT$" + amount.String(),
		Choose: pick, ReturnURL: pub + ReturnPath, PaymentInfoURL: pub + PaymentInfoPath,
		ClientBackURL: pub + BackPath + "?account=" + url.QueryEscape(accountID), ExpireDays: s.cfg.ATMExpireDays,
	})
	if err != nil {
		return Checkout{}, err
	}
	return Checkout{TradeNo: trade, Amount: amount, Method: method, Action: s.cfg.Merchant.Endpoint, Fields: fields}, nil
}

// pending gives the version of the account's checkout stream to append a
// checkout at, and the newest of its checkouts that awaits its payment and
// started within PendingRecent (nil: none). The view knows most; the
// stream is read past what the view has read, so that a checkout another
// process has just recorded counts too, and appending at the version read
// makes sure none was recorded since.
func (s *Service) pending(ctx context.Context, accountID string) (eventstore.ExpectedVersion, *Payment, error) {
	const page = 100
	last, seen := s.view.checkoutVersion(accountID)
	from := uint64(0)
	if seen {
		from = last + 1
	}
	var unread []Payment
	for {
		evs, err := s.store.ReadStream(ctx, domain.CheckoutStream(accountID), from, page)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return eventstore.ExpectedVersion{}, nil, err
		}
		for _, e := range evs {
			b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return eventstore.ExpectedVersion{}, nil, err
			}
			if c, ok := b.(*domain.PaymentCheckoutStarted); ok {
				unread = append(unread, Payment{TradeNo: c.TradeNo, AccountID: c.AccountID, Amount: c.Amount, Method: c.Method, StartedAt: e.OccurredAt})
			}
			last, seen = e.Version, true
		}
		if len(evs) < page {
			break
		}
		from = last + 1
	}
	exp := eventstore.NoStream()
	if seen {
		exp = eventstore.Exact(last)
	}
	// The checkouts the view has not read are the newest: they started
	// moments ago, in another process, and nothing has paid them yet.
	slices.Reverse(unread)
	now := s.now()
	for _, p := range append(unread, s.view.Payments(accountID)...) {
		if s.Status(p, now) == StatusPending && now.Sub(p.StartedAt) <= PendingRecent {
			return exp, &p, nil
		}
	}
	return exp, nil, nil
}

// CheckOrder says what Start would refuse in an amount and a method,
// recording nothing: a page asks its questions only of an order that can
// go on.
func (s *Service) CheckOrder(amount decimal.Decimal, choose string) error {
	_, _, err := s.order(amount, choose)
	return err
}

// order checks an amount and a method, and gives the method as recorded
// and as ECPay's ChoosePayment.
func (s *Service) order(amount decimal.Decimal, choose string) (method, pick string, err error) {
	switch choose {
	case ChooseCard:
		method, pick = domain.MethodCard, ecpay.ChooseCredit
	case ChooseATM:
		method, pick = domain.MethodBankTransfer, ecpay.ChooseATM
	default:
		return "", "", invalid("method must be %s or %s", ChooseCard, ChooseATM)
	}
	if !amount.IsPositive() || !amount.Equal(amount.Truncate(0)) {
		return "", "", invalid("a top-up is a positive whole number of New Taiwan dollars (NT$%s given)", domain.Excerpt(amount.String()))
	}
	if max := s.maxTopUp(); amount.GreaterThan(max) {
		return "", "", invalid("a top-up is at most NT$%s (NT$%s given)", max, domain.Excerpt(amount.String()))
	}
	// Checked before the checkout is recorded: ECPay would refuse the order
	// at its cashier and leave the customer there.
	if pick == ecpay.ChooseATM && (amount.LessThan(decimal.NewFromInt(ecpay.ATMMinAmount)) || amount.GreaterThan(decimal.NewFromInt(ecpay.ATMMaxAmount))) {
		return "", "", invalid("an ATM transfer is NT$%d to NT$%d (NT$%s given): choose an amount in that range, or pay by card", ecpay.ATMMinAmount, ecpay.ATMMaxAmount, domain.Excerpt(amount.String()))
	}
	return method, pick, nil
}

// tradeNo is "RF", the Taipei time to the second and six random letters
// and digits: 20 characters, as MerchantTradeNo allows.
func tradeNo(now time.Time) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "RF" + now.In(ecpay.Taipei).Format("060102150405") + string(b)
}

// The reasons of the refusals that say a checkout's payment failed; the
// view reads them back from history, so their words stay as they are.
const (
	reasonNotPaid = "not paid"
	reasonNoATM   = "no ATM account assigned"
)

// system is the actor of what ECPay's notifications cause.
var system = domain.Actor{Kind: domain.ActorSystem, ID: Provider}

// notification is one of ECPay's posts, first value of each field.
type notification map[string]string

func flatten(form url.Values) notification {
	n := notification{}
	for k, v := range form {
		if len(v) > 0 {
			n[k] = v[0]
		}
	}
	return n
}

// public is what a refused notification records and logs: everything but
// the signature.
func (n notification) public() map[string]string {
	out := map[string]string{}
	for k, v := range n {
		if k != "CheckMacValue" {
			out[k] = v
		}
	}
	return out
}

// refusal is a notification that credits nothing. record: it was signed by
// the merchant's keys, so it is a fact finance must follow up; an unsigned
// post is only logged, so that nobody can write into history by posting.
type refusal struct {
	reason string
	record bool
	ack    bool // an authentic notification ECPay must not retry
}

func (s *Service) refuse(ctx context.Context, endpoint string, n notification, r refusal) string {
	s.log.Warn("payment notification refused", "provider", Provider, "endpoint", endpoint,
		"merchant_trade_no", n["MerchantTradeNo"], "rtn_code", n["RtnCode"], "trade_amt", n["TradeAmt"], "reason", r.reason)
	if r.record {
		ev := &domain.PaymentNotificationRefused{Provider: Provider, Endpoint: endpoint, TradeNo: n["MerchantTradeNo"],
			Reason: r.reason, Fields: n.public(), Actor: system}
		// The same notification posted again is stored once.
		id := domain.EventID(domain.TypePaymentNotificationRefuse, endpoint, n["CheckMacValue"])
		d, err := commands.Event(id, s.now(), ev)
		if err == nil {
			var res eventstore.AppendResult
			if res, err = s.store.Append(ctx, domain.PaymentsRefusedStream, eventstore.Any(), d); err == nil {
				s.wait(ctx, res.Position)
			}
		}
		if err != nil {
			s.log.Error("payment notification refused but not recorded", "merchant_trade_no", n["MerchantTradeNo"], "err", err)
		}
	}
	if r.ack {
		return ecpay.ReplyOK
	}
	return ecpay.Refuse(r.reason)
}

func (s *Service) wait(ctx context.Context, pos eventstore.Position) {
	if s.settle == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = s.settle(ctx, pos)
}

// checkout reads a trade number's history: its checkout, and the last ATM
// account ECPay assigned it (nil: none). c is nil for a trade number never
// issued.
func (s *Service) checkout(ctx context.Context, trade string) (c *domain.PaymentCheckoutStarted, assigned *domain.PaymentAccountAssigned, err error) {
	if !ecpay.ValidTradeNo(trade) {
		return nil, nil, nil
	}
	evs, err := s.store.ReadStream(ctx, domain.PaymentStream(trade), 0, 100)
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, nil, err
	}
	for _, e := range evs {
		b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return nil, nil, err
		}
		switch v := b.(type) {
		case *domain.PaymentCheckoutStarted:
			c = v
		case *domain.PaymentAccountAssigned:
			assigned = v
		}
	}
	if c == nil {
		c, err = s.started(ctx, trade)
	}
	return c, assigned, err
}

// started finds a trade's checkout in its account's CheckoutStream, whose
// name the trade number does not give: by the event's ID where the store
// reads events by ID (SQLite, PostgreSQL), otherwise in the view, which
// every process keeps within a second of the store. A notification comes
// after the customer has been on ECPay's page, well after that second.
func (s *Service) started(ctx context.Context, trade string) (*domain.PaymentCheckoutStarted, error) {
	if r, ok := s.store.(eventstore.EventReader); ok {
		e, err := r.ReadEvent(ctx, domain.EventID(domain.TypePaymentCheckoutStarted, trade))
		switch {
		case err == nil:
			b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return nil, err
			}
			if c, ok := b.(*domain.PaymentCheckoutStarted); ok && c.TradeNo == trade {
				return c, nil
			}
		case !errors.Is(err, eventstore.ErrEventNotFound):
			return nil, err
		}
	}
	if p, ok := s.view.Payment(trade); ok {
		return &domain.PaymentCheckoutStarted{AccountID: p.AccountID, Provider: Provider, TradeNo: p.TradeNo, Amount: p.Amount, Method: p.Method}, nil
	}
	return nil, nil
}

// match checks what every notification must be: signed with our keys, for
// our merchant, about a trade number we issued, for the amount we asked.
func (s *Service) match(ctx context.Context, n notification) (*domain.PaymentCheckoutStarted, *refusal, error) {
	if !s.cfg.Merchant.Verify(n) {
		return nil, &refusal{reason: "CheckMacValue does not verify"}, nil
	}
	if n["MerchantID"] != s.cfg.Merchant.MerchantID {
		return nil, &refusal{reason: "another merchant's notification", record: true}, nil
	}
	c, _, err := s.checkout(ctx, n["MerchantTradeNo"])
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, &refusal{reason: "unknown trade number", record: true}, nil
	}
	amt, err := decimal.NewFromString(n["TradeAmt"])
	if err != nil || !amt.Equal(c.Amount) {
		return nil, &refusal{reason: fmt.Sprintf("amount %s differs from the NT$%s asked", domain.Quote(n["TradeAmt"]), c.Amount), record: true}, nil
	}
	return c, nil, nil
}

// Return takes ECPay's payment notification (ReturnURL) and gives the
// answer ECPay expects.
func (s *Service) Return(ctx context.Context, form url.Values) string {
	n := flatten(form)
	ctx = domain.WithActor(ctx, system)
	c, r, err := s.match(ctx, n)
	if err != nil {
		s.log.Error("payment notification failed", "merchant_trade_no", n["MerchantTradeNo"], "err", err)
		return ecpay.Refuse("try again")
	}
	if r != nil {
		return s.refuse(ctx, "return", n, *r)
	}
	switch {
	case n["SimulatePaid"] == "1":
		// ECPay's merchant panel simulates a payment: no money moved.
		return s.refuse(ctx, "return", n, refusal{reason: "simulated payment", record: true, ack: true})
	case n["RtnCode"] != "1":
		return s.refuse(ctx, "return", n, refusal{reason: fmt.Sprintf("%s (RtnCode %s: %s)", reasonNotPaid, n["RtnCode"], n["RtnMsg"]), record: true, ack: true})
	}
	defer s.lockTrade(c.TradeNo)()
	cp := &capture{Store: s.store}
	dup, err := s.topUps(cp, c).TopUp(ctx, credit(c))
	if taken := s.takenReference(ctx, c, err); taken != nil {
		return s.refuse(ctx, "return", n, *taken)
	}
	switch {
	case err != nil:
		s.log.Error("payment notification: top-up failed", "merchant_trade_no", c.TradeNo, "err", err)
		return ecpay.Refuse("try again")
	case dup:
		// ECPay resends until it reads 1|OK, for days: an authentic copy
		// of a credited trade is acknowledged, crediting nothing.
		return s.refuse(ctx, "return", n, refusal{reason: "replay: the trade is already credited", ack: true})
	}
	s.wait(ctx, cp.last)
	s.log.Info("payment credited", "provider", Provider, "merchant_trade_no", c.TradeNo, "account", c.AccountID, "amount", c.Amount.String(), "method", c.Method)
	return ecpay.ReplyOK
}

// takenReference is the refusal of a paid notification whose trade number
// is already the reference of another top-up of the account, of another
// amount or method (finance recorded the payment by hand before ECPay's
// notification came): the trade credits nothing more, and finance must see
// it rather than ECPay resend it unanswered. nil for any other error,
// which ECPay is asked to retry.
func (s *Service) takenReference(ctx context.Context, c *domain.PaymentCheckoutStarted, err error) *refusal {
	if !errors.Is(err, commands.ErrConflict) {
		return nil
	}
	// TopUp's conflict may also be a stream busy with other top-ups; the
	// check, which appends nothing, conflicts only over the reference.
	if _, err := s.topUps(s.store, c).CheckTopUp(ctx, credit(c)); errors.Is(err, commands.ErrConflict) {
		return creditedOtherwise(err)
	}
	return nil
}

// creditedOtherwise is the refusal of a notification whose trade number is
// held by a top-up recorded otherwise (CheckTopUp's conflict, err):
// acknowledged, so that ECPay stops resending, and listed for finance.
func creditedOtherwise(err error) *refusal {
	return &refusal{reason: "credited otherwise: " + strings.TrimPrefix(err.Error(), commands.ErrConflict.Error()+": "), record: true, ack: true}
}

// topUps credits checkouts on store. The customer pays what the checkout
// asked, under the bound of its day: a bound lowered since (an ATM account
// stays open for days) must not leave money received uncredited.
func (s *Service) topUps(store eventstore.Store, c *domain.PaymentCheckoutStarted) *commands.Handler {
	return &commands.Handler{Store: store, Now: s.now, MaxTopUp: decimal.Max(s.maxTopUp(), c.Amount), StaffTokens: s.cmds.StaffTokens,
		PaymentReferences: s.cmds.PaymentReferences}
}

// credit is the top-up that a checkout's payment records.
func credit(c *domain.PaymentCheckoutStarted) domain.CreditsToppedUp {
	return domain.CreditsToppedUp{AccountID: c.AccountID, Amount: c.Amount, Method: c.Method, Reference: c.TradeNo}
}

// PaymentInfo takes ECPay's ATM virtual account for a checkout
// (PaymentInfoURL, RtnCode 2) and records it for the customer to see.
func (s *Service) PaymentInfo(ctx context.Context, form url.Values) string {
	n := flatten(form)
	ctx = domain.WithActor(ctx, system)
	c, r, err := s.match(ctx, n)
	if err != nil {
		s.log.Error("payment info failed", "merchant_trade_no", n["MerchantTradeNo"], "err", err)
		return ecpay.Refuse("try again")
	}
	if r != nil {
		return s.refuse(ctx, "payment-info", n, *r)
	}
	if n["RtnCode"] != "2" || n["vAccount"] == "" || c.Method != domain.MethodBankTransfer {
		return s.refuse(ctx, "payment-info", n, refusal{reason: fmt.Sprintf("%s (RtnCode %s: %s)", reasonNoATM, n["RtnCode"], n["RtnMsg"]), record: true, ack: true})
	}
	defer s.lockTrade(c.TradeNo)()
	if r, err := s.settledAccount(ctx, c, n); err != nil {
		s.log.Error("payment info failed", "merchant_trade_no", c.TradeNo, "err", err)
		return ecpay.Refuse("try again")
	} else if r != nil {
		return s.refuse(ctx, "payment-info", n, *r)
	}
	ev := &domain.PaymentAccountAssigned{AccountID: c.AccountID, Provider: Provider, TradeNo: c.TradeNo,
		BankCode: n["BankCode"], VAccount: n["vAccount"], ExpireDate: n["ExpireDate"], Actor: system}
	d, err := commands.Event(domain.EventID(domain.TypePaymentAccountAssigned, c.TradeNo, n["vAccount"]), s.now(), ev)
	if err != nil {
		return ecpay.Refuse("try again")
	}
	// Any: the trade's checkout, matched above, is in its account's stream.
	res, err := s.store.Append(ctx, domain.PaymentStream(c.TradeNo), eventstore.Any(), d)
	if err != nil {
		s.log.Error("payment info not recorded", "merchant_trade_no", c.TradeNo, "err", err)
		return ecpay.Refuse("try again")
	}
	s.wait(ctx, res.Position)
	return ecpay.ReplyOK
}

// settledAccount refuses a payment info once the trade is paid: the account
// the customer paid into stands. The same account sent again is a replay;
// another one is a conflict that finance must see. Both are acknowledged,
// so that ECPay stops resending. A paid trade that has no account yet (its
// payment info was retried past the transfer's notification) takes the one
// that comes: it is the account paid into, which finance searches by. A
// trade number finance recorded by hand otherwise (on another account, or
// for another amount or method) takes no account either: as its paid
// notification, the payment info is acknowledged and listed for finance.
func (s *Service) settledAccount(ctx context.Context, c *domain.PaymentCheckoutStarted, n notification) (*refusal, error) {
	paid, err := s.topUps(s.store, c).CheckTopUp(ctx, credit(c))
	if errors.Is(err, commands.ErrConflict) {
		// The check appends nothing: its conflict is over the reference.
		return creditedOtherwise(err), nil
	}
	if err != nil || !paid {
		return nil, err
	}
	_, a, err := s.checkout(ctx, c.TradeNo)
	if err != nil || a == nil {
		return nil, err
	}
	if a != nil && a.BankCode == n["BankCode"] && a.VAccount == n["vAccount"] && a.ExpireDate == n["ExpireDate"] {
		return &refusal{reason: "replay: the account is already recorded", ack: true}, nil
	}
	return &refusal{reason: "the trade is already paid: its ATM account does not change", record: true, ack: true}, nil
}

// capture remembers the position of the last append.
type capture struct {
	eventstore.Store
	last eventstore.Position
}

func (c *capture) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := c.Store.Append(ctx, stream, exp, evs...)
	if err == nil && c.last.Less(res.Position) {
		c.last = res.Position
	}
	return res, err
}
