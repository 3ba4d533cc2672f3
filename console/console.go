// Package console is RouteFree's staff and customer face: the admin JSON API
// under /admin/api, the server-rendered web console under /console, and the
// public /models and /rankings pages. Every mutation goes through commands;
// every read comes from a projection.
package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/projections"
)

// Invoices is what the console needs of invoicing: issuing a quote from the
// quote builder. *invoicing.Service fits, and also Finance, which the
// invoices page needs for finance's actions. Invoice PDFs are served by
// invoicing/httpapi, to which the console links.
type Invoices interface {
	CreateQuote(ctx context.Context, req invoicing.QuoteRequest) (invoicing.Quote, error)
}

// Deps are what the console runs on.
type Deps struct {
	Store    eventstore.Store
	Commands *commands.Handler
	Models   *projections.Models
	Catalog  *catalog.Catalog
	Invoices Invoices     // optional: without it the quote builder answers 503
	Logger   *slog.Logger // optional
	// Views is the console's read model; it must run in Runner with Models.
	Views *Views
	// Runner, when set, lets a mutation return only once the projections show
	// it (read your writes).
	Runner *projections.Runner
	// Auth, when set, is shared with other faces (invoicing/httpapi) so a
	// console session works there too; nil: Register makes one.
	Auth *Authenticator
	// TrustedProxies are the reverse proxies whose forwarded headers
	// (X-Forwarded-Proto) are believed; from anyone else they are dropped.
	TrustedProxies []*net.IPNet
	// TurnkeyDir is the MOF Turnkey program's root folder; when set,
	// finance runs the outbox from the invoices page.
	TurnkeyDir string
	// Payments, when set, offers customers top-ups by card and ATM.
	Payments *payments.Service
	// OIDC and SAML, when set, let people sign in through their
	// organisation's identity provider.
	OIDC *auth.OIDC
	SAML *auth.SAML
	// LowBalance, when positive, is the least credit left below which the
	// account page warns its owner (see lowBalanceOf); zero: NT$100.
	LowBalance decimal.Decimal
	// Getenv reads the settings that have no flag (AdminTokenEnv); nil:
	// os.Getenv.
	Getenv func(string) string
}

// Validate reports every missing dependency at once.
func (d *Deps) Validate() error {
	var errs []error
	if d.Store == nil {
		errs = append(errs, errors.New("console: Deps.Store is nil"))
	}
	if d.Commands == nil {
		errs = append(errs, errors.New("console: Deps.Commands is nil"))
	}
	if d.Models == nil || d.Models.Keys == nil || d.Models.Balances == nil {
		errs = append(errs, errors.New("console: Deps.Models (with Keys and Balances) is nil"))
	}
	if d.Catalog == nil {
		errs = append(errs, errors.New("console: Deps.Catalog is nil"))
	}
	if d.Views == nil {
		errs = append(errs, errors.New("console: Deps.Views is nil (console.NewViews, run it in the projections runner)"))
	}
	return errors.Join(errs...)
}

func (d *Deps) now() time.Time {
	if d.Commands != nil && d.Commands.Now != nil {
		return d.Commands.Now()
	}
	return time.Now()
}

// Register mounts the admin API, the console and the public pages on e.
func Register(e *echo.Echo, deps Deps) error {
	if err := deps.Validate(); err != nil {
		return err
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Auth == nil {
		deps.Auth = NewAuthenticator(deps.Views, deps.Models.Keys)
	}
	deps.Auth.sso = ssoMappingsOf(deps.OIDC, deps.SAML)
	// The client's address for sign-in throttling: the connection's, unless
	// the echo instance names trusted proxies (Echo.IPExtractor). Echo's
	// RealIP would otherwise believe any X-Forwarded-For a client sends.
	ip := e.IPExtractor
	if ip == nil {
		ip = echo.ExtractIPDirect()
	}
	s := &server{deps: deps, auth: deps.Auth, clientIP: ip}
	s.registerAPI(e)
	s.registerKeysAPI(e)
	s.registerPayments(e)
	return s.registerPages(e)
}

type server struct {
	deps     Deps
	auth     *Authenticator
	clientIP echo.IPExtractor
	log      logIndex  // the event log's pages
	scans    scanCache // the matches of its recent filtered views
	ranked   rankCache // the public rankings' apps, read a minute at a time
}

// capture remembers where a command's appends landed, so the handler can
// wait for the projections to show them.
type capture struct {
	eventstore.Store
	mu     sync.Mutex
	last   eventstore.Position
	lastID string // the ID of the last event appended, as references name it
}

func (c *capture) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := c.Store.Append(ctx, stream, exp, evs...)
	if err == nil {
		c.mu.Lock()
		if c.last.Less(res.Position) {
			c.last = res.Position
		}
		if len(evs) > 0 {
			c.lastID = evs[len(evs)-1].ID.String()
		}
		c.mu.Unlock()
	}
	return res, err
}

// cmds returns a command handler for one request, and a settle function that
// waits until the projections hold what it appended.
func (s *server) cmds() (*commands.Handler, func(ctx context.Context) error) {
	h, cp := s.capturing()
	return h, func(ctx context.Context) error { return waitFor(ctx, s.deps.Runner, cp) }
}

// capturing returns a command handler for one request and what records
// the events it appends.
func (s *server) capturing() (*commands.Handler, *capture) {
	cp := &capture{Store: s.deps.Store}
	h := &commands.Handler{Store: cp, Now: s.deps.now, StaffTokens: s.staffTokens}
	if s.deps.Views != nil {
		h.PaymentReferences = s.deps.Views.PaymentReferences()
	}
	if s.deps.Commands != nil {
		h.MaxTopUp, h.MaxKeysPerAccount = s.deps.Commands.MaxTopUp, s.deps.Commands.MaxKeysPerAccount
		h.MaxNewKeysPerHour = s.deps.Commands.MaxNewKeysPerHour
		h.KeySlots = s.deps.Commands.SlotCache() // kept between requests
	}
	if s.deps.Models != nil && s.deps.Models.Keys != nil {
		h.LiveKeys = LiveKeys(s.deps.Models.Keys)
	}
	if s.deps.Models != nil && s.deps.Models.Accounts != nil {
		h.LookAlikeAccounts = s.deps.Models.Accounts.LookAlike
	}
	return h, cp
}

// LiveKeys lists an account's keys that are not revoked from the key read
// model, for commands.Handler.LiveKeys.
func LiveKeys(keys *projections.Keys) func(account string) []string {
	return func(account string) []string {
		var ids []string
		for _, k := range keys.ByAccount(account) {
			if !k.Revoked {
				ids = append(ids, k.KeyID)
			}
		}
		return ids
	}
}

func waitFor(ctx context.Context, r *projections.Runner, cp *capture) error {
	cp.mu.Lock()
	pos := cp.last
	cp.mu.Unlock()
	if r == nil || pos == eventstore.Start {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return r.WaitFor(ctx, pos)
}

// caughtUp waits until the projections hold every event committed so far.
// Invoicing appends on its own, not through cmds: after its actions the
// page a handler redirects to (the account page lists the projection's
// invoices and allowances) must show them.
func caughtUp(ctx context.Context, r *projections.Runner) error {
	if r == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return r.WaitForHead(ctx)
}

// AdminTokenEnv names the variable holding the first admin token.
const AdminTokenEnv = "ROUTEFREE_ADMIN_TOKEN"

// BootstrapTokenName names the first admin token, which Bootstrap prints.
const BootstrapTokenName = "bootstrap"

// Bootstrap makes sure an admin can sign in: it registers ROUTEFREE_ADMIN_TOKEN
// as an admin token, or, when the store holds no staff token at all, issues
// one and prints it to stdout, once. Call it after the projections (with
// deps.Views) have caught up.
func Bootstrap(ctx context.Context, deps Deps, stdout io.Writer) error {
	if err := deps.Validate(); err != nil {
		return err
	}
	h, settle := (&server{deps: deps}).cmds()
	getenv := deps.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if secret := getenv(AdminTokenEnv); secret != "" {
		t, ok := deps.Views.StaffByHash(commands.HashKey(secret))
		if ok && !t.Revoked {
			return nil
		}
		_, err := h.RegisterStaffToken(ctx, "admin", AdminTokenEnv, secret)
		if revoked := (*commands.RevokedStaffTokenError)(nil); errors.As(err, &revoked) {
			return revokedEnvToken(revoked.ID)
		}
		if err != nil {
			return fmt.Errorf("console: %s: %w", AdminTokenEnv, err)
		}
		return settle(ctx)
	}
	if len(deps.Views.StaffTokens()) > 0 {
		return nil
	}
	id, secret, err := h.IssueStaffToken(ctx, "admin", BootstrapTokenName)
	if err != nil {
		return fmt.Errorf("console: first admin token: %w", err)
	}
	if err := settle(ctx); err != nil {
		return err
	}
	// Instances started together on a new store each found no token and
	// issued one. Each that sees another's revokes its own; revoking the
	// last admin token is refused, so exactly one is kept, and printed.
	for _, t := range deps.Views.StaffTokens() {
		if t.ID == id || t.Revoked {
			continue
		}
		err := h.RevokeStaffToken(ctx, id)
		if errors.Is(err, commands.ErrConflict) {
			break // ours is the one kept
		}
		if err != nil {
			return fmt.Errorf("console: first admin token: %w", err)
		}
		fmt.Fprintf(stdout, "first admin token: none printed here; another was issued at the same time (by another instance started on this new store, which printed it, or by `routefree staff issue`)\n")
		return settle(ctx)
	}
	fmt.Fprintf(stdout, "first admin token %s (shown once; keep it safe, or set %s): %s\n", id, AdminTokenEnv, secret)
	return nil
}

// revokedEnvToken refuses to start on a ROUTEFREE_ADMIN_TOKEN that staff
// revoked: it stays revoked, and the operator is told what to do.
func revokedEnvToken(id string) error {
	return fmt.Errorf("console: %s names staff token %s, which was revoked: unset it or set a new token, and start again",
		AdminTokenEnv, id)
}

// Role aliases for brevity in route tables.
const (
	roleAdmin   = auth.Admin
	roleFinance = auth.Finance
	roleAuditor = auth.Auditor
)
