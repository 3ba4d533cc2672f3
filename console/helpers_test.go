package console

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL read models
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"golang.org/x/net/html"
	_ "modernc.org/sqlite"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

// clock is the tests' settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// env is a running console over a real SQLite store and the real
// projections runner, served on loopback.
type env struct {
	t     *testing.T
	ctx   context.Context
	store *sqlite.Store
	// storePath is the store's file, for tests that change it behind
	// the store's back.
	storePath string
	models    *projections.Models
	views     *Views
	runner    *projections.Runner
	cap       *capture
	cmds      *commands.Handler
	cat       *catalog.Catalog
	clock     *clock
	deps      Deps
	srv       *httptest.Server
	admin     string
	finance   string
	auditor   string
}

// now is mid-March 2026, Taipei.
var testNow = time.Date(2026, 3, 15, 10, 0, 0, 0, projections.Taipei)

func newEnv(t *testing.T, tlsServer bool) *env {
	t.Helper()
	return build(t, tlsServer, true)
}

// newEnvNoStaff is a first start: no staff token in the store.
func newEnvNoStaff(t *testing.T) *env {
	t.Helper()
	return build(t, false, false)
}

func build(t *testing.T, tlsServer, staff bool) *env {
	t.Helper()
	return buildWith(t, tlsServer, staff, nil)
}

// buildWith lets configure set up the echo instance before Register.
func buildWith(t *testing.T, tlsServer, staff bool, configure func(*echo.Echo)) *env {
	t.Helper()
	return buildWithDeps(t, tlsServer, staff, func(e *echo.Echo, _ *Deps) {
		if configure != nil {
			configure(e)
		}
	})
}

// buildWithDeps lets configure set up the echo instance and the console's
// dependencies before Register.
func buildWithDeps(t *testing.T, tlsServer, staff bool, configure func(*echo.Echo, *Deps)) *env {
	t.Helper()
	return buildAt(t, tlsServer, staff, func(_ string, e *echo.Echo, d *Deps) {
		if configure != nil {
			configure(e, d)
		}
	})
}

// buildAt also tells configure the server's base URL, which exists before
// the server starts (e.g. for a sign-in callback URL).
func buildAt(t *testing.T, tlsServer, staff bool, configure func(base string, e *echo.Echo, d *Deps)) *env {
	t.Helper()
	return buildOn(t, projections.SQLite, tlsServer, staff, configure)
}

// newEnvOn is newEnv with its SQL read models on d: a SQLite file, or a
// schema of its own in the real PostgreSQL (skipped without one).
func newEnvOn(t *testing.T, d projections.Dialect) *env {
	t.Helper()
	return buildOn(t, d, false, true, nil)
}

func buildOn(t *testing.T, d projections.Dialect, tlsServer, staff bool, configure func(base string, e *echo.Echo, d *Deps)) *env {
	t.Helper()
	ctx := context.Background()
	storePath := filepath.Join(t.TempDir(), "events.db")
	store, err := sqlite.Open(storePath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var db *sql.DB
	if d == projections.Postgres {
		db, err = sql.Open("pgx", testenv.PostgresURL(t))
	} else {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "rm.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if d == projections.SQLite {
		db.SetMaxOpenConns(1)
	}
	usage, err := projections.NewUsage(ctx, db, d)
	if err != nil {
		t.Fatal(err)
	}
	models := projections.NewModels(usage)
	clk := &clock{t: testNow}
	if models.Activity, err = projections.NewActivity(ctx, db, d); err != nil {
		t.Fatal(err)
	}
	models.Activity.WithClock(clk.Now)
	if models.KeyUsage, err = projections.NewKeyUsage(ctx, db, d); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, store: store, storePath: storePath, models: models, views: NewViews(models.Accounts).WithClock(clk.Now), clock: clk}
	e.runner, err = projections.NewRunner(store, nil, append(e.models.All(), e.views)...)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.runner.Run(rctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
		db.Close()
		store.Close()
	})
	select {
	case <-e.runner.Running():
	case <-time.After(10 * time.Second):
		t.Fatal("projections runner did not start")
	}
	e.cap = &capture{Store: store}
	e.cmds = &commands.Handler{Store: e.cap, Now: e.clock.Now}
	if e.cat, err = catalog.Default(); err != nil {
		t.Fatal(err)
	}
	// The catalog's prices, in force since the day before testNow (a list
	// cannot be backdated: it is published by a handler whose clock says so).
	dayBefore := &commands.Handler{Store: e.cap, Now: func() time.Time { return testNow.Add(-24 * time.Hour) }}
	if _, err := dayBefore.PublishPrices(ctx, e.cat.NTDPrices(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	inv, err := invoicing.New(store, invoicing.Config{Seller: invoicing.DevSeller(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.deps = Deps{Store: store, Commands: e.cmds, Models: e.models, Catalog: e.cat, Invoices: inv, Views: e.views, Runner: e.runner}
	e.deps.Auth = NewAuthenticator(e.views, e.models.Keys).WithClock(e.clock.Now)
	ech := echo.New()
	e.srv = httptest.NewUnstartedServer(ech)
	base := "http://" + e.srv.Listener.Addr().String()
	if tlsServer {
		base = "https://" + e.srv.Listener.Addr().String()
	}
	if configure != nil {
		configure(base, ech, &e.deps)
	}
	if err := Register(ech, e.deps); err != nil {
		t.Fatal(err)
	}
	if tlsServer {
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	t.Cleanup(e.srv.Close)
	if !staff {
		return e
	}
	e.admin = e.staffToken("admin")
	e.finance = e.staffToken("finance")
	e.auditor = e.staffToken("auditor")
	return e
}

// sync waits until the projections hold everything the test appended.
func (e *env) sync() {
	e.t.Helper()
	if err := waitFor(e.ctx, e.runner, e.cap); err != nil {
		e.t.Fatal(err)
	}
	// What the test appended through invoicing rather than commands.
	if err := caughtUp(e.ctx, e.runner); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) staffToken(role string) string {
	e.t.Helper()
	_, secret, err := e.cmds.IssueStaffToken(e.ctx, role, role+" tester")
	if err != nil {
		e.t.Fatal(err)
	}
	e.sync()
	return secret
}

func (e *env) openAccount(id, org string, plan domain.Plan) {
	e.t.Helper()
	e.openBuyer(id, org, "", plan)
}

// openBuyer opens an account with a 統一編號 (taxID; "" for none): its
// invoices are B2B, and take allowances before their period is filed.
func (e *env) openBuyer(id, org, taxID string, plan domain.Plan) {
	e.t.Helper()
	if _, err := e.cmds.OpenAccount(e.ctx, domain.AccountOpened{AccountID: id, Organisation: org, TaxID: taxID, Plan: plan}); err != nil {
		e.t.Fatal(err)
	}
	e.sync()
}

func (e *env) issueKey(acct string) (string, string) {
	e.t.Helper()
	id, secret, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: acct, Name: "k"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sync()
	return id, secret
}

// request appends a completed request, as the gateway would.
func (e *env) request(acct, key, model, title string, at time.Time, in, out int64, cost string) {
	e.t.Helper()
	rc := &domain.RequestCompleted{RequestID: "gen-" + uuid.NewString(), KeyID: key, AccountID: acct, Model: model,
		Usage: domain.Usage{Input: in, Output: out}, Cost: decimal.RequireFromString(cost), StartedAt: at.UTC(),
		Outcome: domain.OutcomeCompleted, Attempts: 1, AppTitle: title}
	d, err := commands.Event(uuid.New(), at, rc)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.cap.Append(e.ctx, domain.UsageStream(acct), eventstore.Any(), d); err != nil {
		e.t.Fatal(err)
	}
}

// call sends a JSON request with a bearer credential ("" for none).
func (e *env) call(method, path, bearer string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	return e.send(method, path, bearer, rd)
}

// send sends a body (nil for none; JSON otherwise) as it is written, with
// a bearer credential ("" for none).
func (e *env) send(method, path, bearer string, body io.Reader) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e   *env
	c   *http.Client
	jar *cookiejar.Jar
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := *e.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{e: e, c: &c, jar: jar}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.e.t.Helper()
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// signIn signs in through the form and returns the session's CSRF token.
func (b *browser) signIn(secret string) string {
	b.e.t.Helper()
	_, page := b.get("/console/signin")
	csrf := attrOf(b.e.t, page, "input", "id", "signin-csrf", "value")
	resp, _ := b.post("/console/signin", url.Values{"csrf": {csrf}, "token": {secret}})
	if resp.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("sign-in: status %d", resp.StatusCode)
	}
	// Every page of a signed-in visitor carries the session's CSRF token in
	// its sign-out form.
	_, page = b.get("/models")
	return attrOf(b.e.t, page, "input", "name", "csrf", "value")
}

// elements returns the attributes of every element named tag (any tag when
// "") that has attribute attr.
func elements(t *testing.T, page, tag, attr string) []map[string]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (tag == "" || n.Data == tag) {
			m := map[string]string{}
			for _, a := range n.Attr {
				m[a.Key] = a.Val
			}
			if _, ok := m[attr]; ok {
				out = append(out, m)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// attrOf returns attribute want of the first tag whose attribute key is val.
func attrOf(t *testing.T, page, tag, key, val, want string) string {
	t.Helper()
	for _, m := range elements(t, page, tag, key) {
		if m[key] == val {
			return m[want]
		}
	}
	t.Fatalf("no <%s %s=%q> in page", tag, key, val)
	return ""
}
