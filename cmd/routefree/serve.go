package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for read models
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
	_ "modernc.org/sqlite" // database/sql driver "sqlite" for read models

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/console"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/router"
	"github.com/routefree/routefree/gateway/server"
	"github.com/routefree/routefree/internal/inherit"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/httpapi"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/projections"
)

func init() {
	register("serve", "run the gateway: event store, projections and the /api/v1 endpoints", cmdServe)
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("serve", stderr)
	if err := parse(fs, c, args); err != nil {
		return err
	}
	// The memory limit holds from the first start on: catching up reads the
	// whole history, and without it the collector lets the heap grow to
	// twice the read models while it does.
	memCtx, stopMem := context.WithCancel(ctx)
	defer stopMem()
	keepMemoryLimit(memCtx)
	log := newLogger(stderr, c.LogLevel)
	c.log = log
	for _, w := range c.secretFileWarnings() {
		log.Warn(w)
	}
	// Both ports are taken before anything else: a port in use stops serve
	// before it makes a store or prints a first admin token or demo key
	// that it would never show again.
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	// The profiler serves from the start: catching up with a long history
	// is among what it is for.
	if c.DebugListen != "" {
		stopDebug, err := serveDebug(c.DebugListen, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	in, err := openInstance(ctx, c, log)
	if err != nil {
		return stoppedEarly(ctx, log, err)
	}
	defer in.close()
	if err := in.start(ctx, stdout); err != nil {
		return stoppedEarly(ctx, log, err)
	}
	gw := in.gateway()
	// The other faces share the listener: finance's invoicing API and the
	// console (admin API and pages), behind one authenticator.
	e := gw.Echo()
	e.IPExtractor = clientAddress(c)
	httpapi.Register(e.Group("/admin/api"), e.Group("/api/v1"), in.invoices, in.authn)
	if err := console.Register(e, in.consoleDeps()); err != nil {
		return err
	}
	if in.payments != nil {
		payments.Register(e, in.payments) // ECPay's notifications
	}
	err = in.serve(ctx, ln, gw, stdout)
	gw.Drain() // failure events still being written, before the store closes
	return err
}

// stoppedEarly is err, unless serve was asked to stop (SIGTERM, SIGINT,
// SIGHUP) while it started: the wait it cut short is no failure, and a
// supervisor stopping a starting service must not see one.
func stoppedEarly(ctx context.Context, log *slog.Logger, err error) error {
	if ctx.Err() == nil {
		return err
	}
	log.Info("stopped before serving, as asked", "while", err.Error())
	return nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// instance is one running RouteFree: store, projections, admission, gateway.
type instance struct {
	cfg     *Config
	log     *slog.Logger
	reg     *prometheus.Registry
	store   eventstore.Store // metered, its appends watched
	raw     eventstore.Store // the backend itself
	appends appendHealth     // did the latest append fail?
	db      *sql.DB          // finance read models
	models  *projections.Models
	runner  *projections.Runner
	cmds    *commands.Handler
	cat     *catalog.Catalog
	router  *router.Router
	rdb     *redis.Client // nil without --redis-url
	limiter admission.RateLimiter
	ledger  admission.Ledger
	metrics *server.Metrics
	gauges  *gauges

	views    *console.Views // staff tokens and console read model
	authn    *console.Authenticator
	invoices *invoicing.Service
	payView  *payments.View    // checkouts and refused notifications
	events   eventCount        // how many events the store holds (serve's first words)
	payments *payments.Service // nil without a merchant in the environment
	oidc     *auth.OIDC        // nil without ROUTEFREE_OIDC_ISSUER
	saml     *auth.SAML        // nil without ROUTEFREE_SAML_IDP_METADATA

	ready    atomic.Bool
	inflight atomic.Int64 // HTTP requests in their handlers
	stop     context.CancelFunc
	stopped  chan struct{}  // closed when the background work has ended
	runErr   chan error     // the projection runner's end
	fatal    chan error     // what serve cannot serve on through (checkHistory)
	closers  []func() error // run in reverse order by close
}

// openInstance opens everything the gateway runs on; close undoes it.
func openInstance(ctx context.Context, c *Config, log *slog.Logger) (*instance, error) {
	in := &instance{cfg: c, log: log, reg: prometheus.NewRegistry()}
	in.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ok := false
	defer func() {
		if !ok {
			in.close()
		}
	}()
	var err error
	if in.cat, err = catalog.Load(c.Catalog); err != nil {
		return nil, err
	}
	// A half-open trial keeps the upstream to itself while it waits for
	// its answer; the bound only frees one whose end was never reported.
	trialLimit := max(c.FirstByteTimeout, c.UnaryTimeout) + time.Minute
	in.router = router.New(in.cat, router.Options{BreakerThreshold: c.BreakerThreshold, BreakerCooldown: c.BreakerCooldown,
		BreakerTrialLimit: trialLimit, Getenv: c.Getenv})
	c.warnUnusedStoreURL(log)
	raw, err := createStore(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("event store: %w", err)
	}
	// Closing the store writes the appends still queued: it runs last.
	in.closers = append(in.closers, func() error { return raw.Close() })
	in.raw = raw
	in.store = healthStore{newMeteredStore(raw, in.reg), &in.appends}

	var dialect projections.Dialect
	if in.db, dialect, err = openReadModels(ctx, c); err != nil {
		return nil, fmt.Errorf("read models: %w", err)
	}
	in.closers = append(in.closers, in.db.Close)
	claim, err := claimStore(ctx, c, in.db, c.RedisURL != "", log)
	if err != nil {
		return nil, err
	}
	in.closers = append(in.closers, claim.release) // before the database closes
	usage, activity, keyUsage, err := newUsage(ctx, c, in.db, dialect)
	if err != nil {
		return nil, fmt.Errorf("read models: %w", err)
	}
	in.closers = append(in.closers, usage.Close, activity.Close, keyUsage.Close) // after the runner, before the database
	if r, ok := raw.(eventstore.EventReader); ok {
		for _, m := range []interface {
			Name() string
			VerifyCheckpoint(context.Context, eventstore.EventReader) (bool, error)
		}{usage, activity, keyUsage} {
			rebuilt, err := m.VerifyCheckpoint(ctx, r)
			if err != nil {
				return nil, fmt.Errorf("read models: %w", err)
			}
			if rebuilt {
				log.Warn("the " + m.Name() + " read model counted events this store does not hold (the store was put back from an older copy, or replaced): it is built again from the first event")
			}
		}
	}
	in.models = projections.NewModels(usage)
	in.models.Activity, in.models.KeyUsage = activity, keyUsage
	in.views = console.NewViews(in.models.Accounts)
	if _, ok := in.store.(eventstore.EventReader); ok {
		in.views.PaymentReferences().FoundByID() // TopUp reads them by ID
	}
	in.payView = payments.NewView()
	if in.runner, err = projections.NewRunner(in.store, projections.NewLogger(log), append(in.models.All(), in.views, in.payView, &in.events)...); err != nil {
		return nil, err
	}
	in.cmds = commands.New(in.store)
	in.cmds.MaxTopUp, in.cmds.MaxKeysPerAccount = c.maxTopUp(), c.MaxKeysPerAccount
	in.cmds.MaxNewKeysPerHour = c.MaxNewKeysPerHour
	in.cmds.LiveKeys = console.LiveKeys(in.models.Keys)
	in.cmds.LookAlikeAccounts = in.models.Accounts.LookAlike
	in.cmds.PaymentReferences = in.views.PaymentReferences()
	in.authn = console.NewAuthenticator(in.views, in.models.Keys)
	if err := in.openPayments(); err != nil {
		return nil, err
	}
	if in.oidc, in.saml, err = openSSO(ctx, c.Getenv); err != nil {
		return nil, err
	}
	seller := sellerFrom(c)
	if err := seller.Validate(); err != nil {
		return nil, fmt.Errorf("seller configuration: %w", err)
	}
	if w := devSellerWarning(seller); w != "" {
		in.log.Warn(w)
	}
	if in.invoices, err = invoicing.New(in.store, invoicing.Config{Seller: seller, CacheDir: filepath.Join(c.DataDir, "documents"),
		Logger: in.log, FoldPause: 3 * time.Millisecond}); err != nil {
		return nil, err
	}

	in.limiter = admission.NewMemoryLimiter()
	in.ledger = admission.NewMemoryLedger(admission.LedgerOptions{})
	if c.RedisURL != "" {
		// Shared limits and holds: every instance admits against the same
		// counters, so limits and credit hold globally.
		opt, err := redis.ParseURL(c.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
		in.rdb = redis.NewClient(opt)
		in.closers = append(in.closers, in.rdb.Close)
		if err := awaitRedis(ctx, c, in.rdb, log); err != nil {
			return nil, err
		}
		// One Redis and prefix for every serve on the store, one store
		// for every prefix.
		stopOwner, othersRunning, err := joinRedis(ctx, c, in.rdb, claim, raw, log)
		if err != nil {
			return nil, err
		}
		in.closers = append(in.closers, stopOwner)
		in.limiter = admission.NewRedisLimiter(in.rdb, c.RedisPrefix)
		// Holds that a running request renews (every third of their
		// life): those of an instance that dies free the credit within a
		// minute, not after the 15 minutes of one instance's own ledger.
		// Beside running serves, a prefix without the ledger's epoch was
		// emptied under them (a FLUSHALL, evicted keys): wait for their
		// holds.
		ledger := admission.NewRedisLedger(in.rdb, c.RedisPrefix,
			admission.LedgerOptions{HoldTTL: sharedHoldTTL, OthersRunning: othersRunning, Log: log})
		// Taken now, the epoch is there for the serves started next, which
		// would otherwise wait on their first request for holds that do
		// not exist; Redis answered a moment ago, and a hold tries again.
		if err := ledger.Join(ctx); err != nil {
			log.Warn("credit ledger: Redis did not answer; the first request will try again", "err", err)
		}
		in.ledger = ledger
		in.authn.Share(in.rdb, c.RedisPrefix) // a console session works on every instance, sign-in failures count on all
		if in.saml != nil {
			in.saml.ShareAnswered(auth.NewRedisAnswered(in.rdb, c.RedisPrefix)) // a SAML response is taken once, on any instance
		}
	}
	in.metrics = server.NewMetrics(in.reg)
	in.gauges = newGauges(in.reg, in.rdb != nil)
	in.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "routefree_http_in_flight",
		Help: "HTTP requests inside their handlers (this scrape included)."}, func() float64 { return float64(in.inflight.Load()) }))
	ok = true
	return in, nil
}

// openReadModels opens the SQL database of the finance read models: a SQLite
// file beside the embedded store, or the PostgreSQL database of the store.
func openReadModels(ctx context.Context, c *Config) (*sql.DB, projections.Dialect, error) {
	if c.Store == "postgres" {
		db, err := sql.Open("pgx", c.PostgresURL)
		return db, projections.Postgres, err
	}
	if err := inherit.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, "", err
	}
	if err := sqlite.MakePrivate(c.readModelPath()); err != nil {
		return nil, "", err
	}
	db, err := sql.Open("sqlite", sqlite.URI(c.readModelPath(), "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"))
	if err == nil {
		db.SetMaxOpenConns(1)
	}
	return db, projections.SQLite, err
}

// newUsage migrates the read models and opens the usage, activity and key
// usage models. Serves started together on a new SQLite directory take turns:
// goose has no lock on SQLite, and two applying one migration fail the
// second ("table already exists"). PostgreSQL's migrations take an
// advisory lock.
func newUsage(ctx context.Context, c *Config, db *sql.DB, d projections.Dialect) (*projections.Usage, *projections.Activity, *projections.KeyUsage, error) {
	if d == projections.SQLite {
		unlock, err := lockFile(filepath.Join(c.DataDir, "readmodels.lock"))
		if err != nil {
			return nil, nil, nil, err
		}
		defer unlock()
	}
	usage, err := projections.NewUsage(ctx, db, d)
	if err != nil {
		return nil, nil, nil, err
	}
	activity, err := projections.NewActivity(ctx, db, d)
	if err != nil {
		return nil, nil, nil, err
	}
	keyUsage, err := projections.NewKeyUsage(ctx, db, d)
	return usage, activity, keyUsage, err
}

// sharedHoldTTL is how long a credit hold in Redis outlives its request's
// last renewal (every 20 s while the request runs).
const sharedHoldTTL = time.Minute

// start runs the projections, waits until they hold the whole history, makes
// the first-run events and starts the gauges.
func (in *instance) start(ctx context.Context, stdout io.Writer) error {
	// Detached from ctx's cancellation, not from its values: the background
	// work (top-up invoices, the monthly close) records serve as its actor.
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	in.stop, in.stopped, in.runErr, in.fatal = stop, make(chan struct{}), make(chan error, 1), make(chan error, 1)
	go func() {
		defer close(in.stopped)
		done := make(chan struct{})
		go func() { defer close(done); in.watch(bg) }()
		in.runErr <- in.runner.Run(bg)
		<-done
	}()
	// Serve only once the in-memory projections hold the whole history.
	began := time.Now()
	if err := in.catchUp(ctx); err != nil {
		return err
	}
	in.log.Info("projections caught up", "took_ms", time.Since(began).Milliseconds())
	in.tellExisting(stdout, in.events.count())
	if err := in.firstRun(ctx, stdout); err != nil {
		return err
	}
	if err := console.Bootstrap(ctx, in.consoleDeps(), stdout); err != nil {
		return err
	}
	// The invoicing projector: invoices for paid top-ups and the monthly
	// close, as events.
	go func() {
		if err := in.invoices.Run(bg, in.log); err != nil && bg.Err() == nil {
			in.log.Error("invoicing projector stopped", "err", err)
		}
	}()
	// The tokenizer (20 MB) loads on first use: most upstreams report usage.
	return nil
}

// envTurnkeyDir names the MOF Turnkey program's root folder, where the
// console's outbox runs.
const envTurnkeyDir = "ROUTEFREE_TURNKEY_DIR"

func (in *instance) consoleDeps() console.Deps {
	trusted, _ := in.cfg.trustedProxies() // Validate has rejected bad ones
	// --low-balance is checked by Validate.
	lowBalance, _ := decimal.NewFromString(in.cfg.LowBalance)
	return console.Deps{Store: in.store, Commands: in.cmds, Models: in.models, Catalog: in.cat,
		Invoices: in.invoices, Logger: in.log, Views: in.views, Runner: in.runner, Auth: in.authn, TrustedProxies: trusted,
		TurnkeyDir: in.cfg.Getenv(envTurnkeyDir), Payments: in.payments, OIDC: in.oidc, SAML: in.saml,
		LowBalance: lowBalance, Getenv: in.cfg.Getenv}
}

// gateway builds the OpenAI face with health, readiness and metrics beside it.
func (in *instance) gateway() *server.Server {
	c := in.cfg
	gw := server.New(server.Config{
		ConnectTimeout: c.ConnectTimeout, FirstByteTimeout: c.FirstByteTimeout, UnaryTimeout: c.UnaryTimeout, KeepAlive: c.KeepAlive,
		ClientWriteTimeout: c.ClientWriteTimeout, BodyReadTimeout: c.BodyReadTimeout, MaxBodyBytes: c.MaxBodyBytes, Logger: in.log,
	}, server.Deps{Store: in.store, Directory: server.Projected{M: in.models, Store: in.store}, Router: in.router,
		Limiter: in.limiter, Ledger: in.ledger, Metrics: in.metrics, Projections: in.runner})
	e := gw.Echo()
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", in.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(in.reg, promhttp.HandlerOpts{})))
	return gw
}

// serve serves on ln until ctx ends (SIGTERM, SIGINT), then shuts down
// gracefully. Connections made before it queue on ln.
func (in *instance) serve(ctx context.Context, ln net.Listener, h http.Handler, stdout io.Writer) error {
	srv := &http.Server{
		Handler:           in.counted(h),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(in.log.Handler(), slog.LevelWarn),
	}
	cut := cuttable(srv)
	in.ready.Store(true)
	in.log.Info("routefree listening", "addr", ln.Addr().String(), "store", in.cfg.Store, "models", len(in.cat.Models))
	fmt.Fprintf(stdout, "RouteFree gateway on http://%s/api/v1\n", ln.Addr())
	serveErr := make(chan error, 1)
	// Every answer, the console's too, is written under the client write
	// timeout: a client that takes none of it is cut.
	go func() { serveErr <- srv.Serve(server.CutStalledWriters(ln, in.cfg.ClientWriteTimeout)) }()

	select {
	case err := <-serveErr:
		return err
	case err := <-in.runErr:
		in.runErr <- err
		return fmt.Errorf("projections stopped: %v", err)
	case err := <-in.fatal:
		in.shutdown(srv, cut)
		return err
	case <-ctx.Done():
	}
	in.shutdown(srv, cut)
	return nil
}

// cutNotice is how long the requests the shutdown cuts get to tell their
// clients (a 503, a stream's error chunk) before the connections close.
const cutNotice = 2 * time.Second

// cuttable makes every request's context on srv derive from one that
// shutdown's cut cancels with server.ErrShuttingDown as the cause, so that
// the gateway tells a request it cut from a client that left.
func cuttable(srv *http.Server) (cut context.CancelCauseFunc) {
	base, cut := context.WithCancelCause(context.Background())
	srv.BaseContext = func(net.Listener) context.Context { return base }
	return cut
}

// shutdown: not ready first (and serving on for --shutdown-delay, so load
// balancers notice), then stop accepting and let in-flight requests and
// streams finish within --shutdown-grace. Each finished request's event is
// durable before its last byte went out; close then writes what is queued.
func (in *instance) shutdown(srv *http.Server, cut context.CancelCauseFunc) {
	in.ready.Store(false)
	in.publishReadiness(context.Background())
	in.log.Info("shutting down", "delay", in.cfg.ShutdownDelay.String(), "grace", in.cfg.ShutdownGrace.String(), "in_flight", in.inflight.Load())
	time.Sleep(in.cfg.ShutdownDelay)
	ctx, cancel := context.WithTimeout(context.Background(), in.cfg.ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(ctx)
	// Ended with a cause of their own, the requests still running are
	// recorded as cut by the shutdown, not as clients that left, and tell
	// their clients so while the connections still stand.
	cut(server.ErrShuttingDown)
	if err != nil {
		in.log.Warn("grace period over: cutting the remaining requests", "in_flight", in.inflight.Load())
		in.waitIdle(cutNotice)
		_ = srv.Close()
		// Cut streams are billed for what they delivered: let their
		// handlers record that before the store closes.
		in.waitIdle(5 * time.Second)
	}
	in.log.Info("stopped accepting; in-flight requests done")
}

// counted tracks the requests inside handlers.
func (in *instance) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.inflight.Add(1)
		defer in.inflight.Add(-1)
		h.ServeHTTP(w, r)
	})
}

func (in *instance) waitIdle(max time.Duration) {
	for end := time.Now().Add(max); in.inflight.Load() > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
}

// close stops the background work, then closes Redis, the read models and,
// last, the store, which writes the appends still queued.
func (in *instance) close() {
	if in.stop != nil {
		in.stop()
		<-in.stopped
	}
	for i := len(in.closers) - 1; i >= 0; i-- {
		if err := in.closers[i](); err != nil {
			in.log.Warn("close", "err", err)
		}
	}
	in.log.Info("event store closed")
}

// checkHistory stops serve when the store no longer holds the last event
// its projections applied, or is no longer the file it opened: the history
// went back under it (a dump or a backup restored in place of the live
// store while serve ran). Its
// balances and holds still count what came after, which no replay of the
// store gives: serving on would admit against credit the history no
// longer grants. Started again, serve reads the history as it is.
func (in *instance) checkHistory(ctx context.Context) {
	// SQLite's file replaced under serve (moved aside for the backup put
	// in its place) still holds every event: its path no longer names it.
	if f, ok := in.raw.(interface{ Replaced() error }); ok {
		if err := f.Replaced(); err != nil {
			in.stopFor(fmt.Errorf("the event store was replaced under this serve: %w", err))
			return
		}
	}
	r, ok := in.raw.(eventstore.EventReader)
	if !ok {
		return
	}
	id, hash, ok := in.events.last()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	e, err := r.ReadEvent(ctx, id)
	switch {
	case errors.Is(err, eventstore.ErrEventNotFound):
	case err != nil:
		return // the store unreachable: readiness says so
	case len(hash) == 0 || bytes.Equal(e.Hash, hash):
		return
	}
	err = fmt.Errorf("the event store no longer holds event %s, which this serve applied: its history went back under it "+
		"(restored from a dump or a backup while serve ran?), and this serve's balances count what is gone; stopping: start it again to serve the history as it is", id)
	in.stopFor(err)
}

// stopFor logs err and stops serve with it, draining as on SIGTERM.
func (in *instance) stopFor(err error) {
	in.log.Error("stopping", "err", err)
	select {
	case in.fatal <- err:
	default:
	}
}

func (in *instance) catchUp(ctx context.Context) error { return in.runner.WaitForHead(ctx) }

// readyz is 200 when the instance takes traffic: not shutting down, the
// store answers, appends succeed (after one failed, until the store shows it
// can write again), the projections reach the store's head within
// --ready-max-lag, and Redis (when configured) answers.
//
// Invoicing stopped (on an event it cannot fold, say) leaves the instance
// ready: requests are still served and billed, and their invoices are
// issued once it runs again, where a 503 would take every instance on the
// store out of the load balancer at once. The answer names it as degraded,
// and the error is logged.
func (in *instance) readyz(c echo.Context) error {
	if reason, detail := in.readiness(c.Request().Context()); reason != "" {
		body := map[string]any{"ready": false, "reason": reason}
		if detail != nil {
			body["lagging"] = detail
		}
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	body := map[string]any{"ready": true}
	if err := in.invoices.Stalled(); err != nil {
		body["degraded"] = []string{"invoicing stopped: " + err.Error()}
	}
	return c.JSON(http.StatusOK, body)
}

func (in *instance) readiness(ctx context.Context) (reason string, lagging []string) {
	if !in.ready.Load() {
		return "shutting down", nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second+in.cfg.ReadyMaxLag)
	defer cancel()
	// Read from the slowest projection: cheap when it is current.
	head, err := eventstore.Head(ctx, in.store, in.runner.Slowest(), 100)
	if err != nil {
		return "event store unreachable", nil
	}
	if err := in.appends.check(ctx, in.raw); err != nil {
		in.log.Warn("not ready: appends fail", "err", err)
		return "event store not writable", nil
	}
	wctx, wcancel := context.WithTimeout(ctx, in.cfg.ReadyMaxLag)
	defer wcancel()
	if err := in.runner.WaitFor(wctx, head); err != nil {
		return "projections lagging", in.runner.Lagging(head)
	}
	if in.rdb != nil {
		if err := in.rdb.Ping(ctx).Err(); err != nil {
			return "redis unreachable", nil
		}
	}
	return "", nil
}

// demoAccount is the account --bootstrap-demo opens.
const demoAccount = "acct_demo"

// firstRun publishes the catalog's prices when none exist, and with
// --bootstrap-demo opens a demo account with credit and prints its key.
func (in *instance) firstRun(ctx context.Context, stdout io.Writer) error {
	if _, _, ok := in.models.Prices.At(time.Now()); !ok {
		v, err := in.cmds.PublishPrices(ctx, in.cat.NTDPrices(), time.Time{}) // now
		if err != nil && !errors.Is(err, commands.ErrConflict) {
			return fmt.Errorf("publish prices: %w", err)
		}
		in.log.Info("published the catalog's price list", "version", v)
	}
	if !in.cfg.BootstrapDemo {
		return nil
	}
	credit, err := decimal.NewFromString(in.cfg.DemoCredit)
	if err != nil {
		return fmt.Errorf("--demo-credit: %w", err)
	}
	if acct, _, err := in.cmds.Account(ctx, demoAccount); err == nil {
		if acct.Organisation != demoOrganisation { // opened by hand: not the bootstrap's to complete
			fmt.Fprintln(stdout, "demo account exists already; issue another key with: "+selfCommand()+" keys issue --account acct_demo"+in.cfg.storeFlags())
			return in.catchUp(ctx)
		}
		return in.completeDemo(ctx, stdout, credit, true)
	}
	_, err = in.cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: demoAccount, Organisation: demoOrganisation, Plan: domain.PlanStarter})
	if errors.Is(err, commands.ErrConflict) {
		// Instances started together on a new store each found no demo
		// account; the one whose account was stored first credits it and
		// prints its key, which no other instance can show.
		fmt.Fprintln(stdout, "demo account acct_demo: bootstrapped by another instance started on this new store, which printed its key; issue another with: "+selfCommand()+" keys issue --account acct_demo"+in.cfg.storeFlags())
		return in.catchUp(ctx)
	}
	if err != nil {
		return err
	}
	return in.completeDemo(ctx, stdout, credit, false)
}

// demoOrganisation names the account --bootstrap-demo opens.
const demoOrganisation = "Demo 示範公司"

// demoKeyID is the ID of the key --bootstrap-demo issues.
const demoKeyID = "key_demo"

// demoCreditReference is the reference of the demo account's credit.
const demoCreditReference = "demo-credit"

// completeDemo credits the demo account and issues its key, each unless
// the history holds it: a start stopped between the bootstrap's appends
// (SIGTERM while it starts, a crash) left the account without them, and
// the next start completes it rather than leave a demo without credit.
func (in *instance) completeDemo(ctx context.Context, stdout io.Writer, credit decimal.Decimal, existed bool) error {
	credited, err := in.demoCredited(ctx)
	if err != nil {
		return err
	}
	keyed := len(in.models.Keys.ByAccount(demoAccount)) > 0
	if credited && keyed {
		fmt.Fprintln(stdout, "demo account exists already; issue another key with: "+selfCommand()+" keys issue --account acct_demo"+in.cfg.storeFlags())
		return in.catchUp(ctx)
	}
	if existed {
		fmt.Fprintln(stdout, "demo account acct_demo: completing the bootstrap of a start stopped midway")
	}
	if !credited {
		// The top-up is idempotent by its reference: an instance
		// bootstrapping beside this one may have credited it meanwhile.
		dup, err := in.cmds.TopUp(ctx, domain.CreditsToppedUp{AccountID: demoAccount, Amount: credit, Method: domain.MethodAdjustment, Reference: demoCreditReference})
		if err != nil {
			return err
		}
		if !dup {
			fmt.Fprintf(stdout, "demo account %s with NT$%s credit\n", demoAccount, credit)
		}
	}
	if keyed {
		fmt.Fprintln(stdout, "demo account's key was issued before; issue another with: "+selfCommand()+" keys issue --account acct_demo"+in.cfg.storeFlags())
		return in.catchUp(ctx)
	}
	// The demo key has a fixed ID, so that of instances bootstrapping one
	// store at once only one issues it and prints its secret.
	key, err := in.cmds.IssueKeyAs(ctx, demoKeyID, domain.KeyIssued{AccountID: demoAccount, Name: "demo"})
	if errors.Is(err, commands.ErrConflict) {
		fmt.Fprintln(stdout, "demo account's key was issued by another instance, which printed it; issue another with: "+selfCommand()+" keys issue --account acct_demo"+in.cfg.storeFlags())
		return in.catchUp(ctx)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo key (shown once): %s\n", key)
	return in.catchUp(ctx)
}

// demoCredited reports whether the demo account's credit is recorded,
// whatever amount --demo-credit gave it.
func (in *instance) demoCredited(ctx context.Context) (bool, error) {
	for from := uint64(0); ; {
		evs, err := in.store.ReadStream(ctx, domain.TopUpStream(demoAccount), from, 100)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		for _, e := range evs {
			var t domain.CreditsToppedUp
			if e.Type == domain.TypeCreditsToppedUp && json.Unmarshal(e.Data, &t) == nil && t.Reference == demoCreditReference {
				return true, nil
			}
		}
		if len(evs) < 100 {
			return false, nil
		}
		from = evs[len(evs)-1].Version + 1
	}
}

// clientAddress tells the client's address: the connection's, or with
// --trusted-proxies the last X-Forwarded-For entry that is not one of them
// (the nearest hop a trusted proxy saw). Nothing else is trusted: not
// loopback, not private networks.
func clientAddress(c *Config) echo.IPExtractor {
	nets, _ := c.trustedProxies() // Validate has rejected bad ones
	if len(nets) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range nets {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
