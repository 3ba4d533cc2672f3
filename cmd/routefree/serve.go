package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for read models
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
	_ "modernc.org/sqlite" // database/sql driver "sqlite" for read models

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/router"
	"github.com/routefree/routefree/gateway/server"
	"github.com/routefree/routefree/gateway/tokens"
	"github.com/routefree/routefree/projections"
)

func init() {
	register("serve", "run the gateway: event store, projections and the /api/v1 endpoints", cmdServe)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openReadModels opens the SQL database of the finance read models: a SQLite
// file beside the embedded store, or the PostgreSQL database of the store.
func openReadModels(ctx context.Context, c *Config) (*sql.DB, projections.Dialect, error) {
	if c.Store == "postgres" {
		db, err := sql.Open("pgx", c.PostgresURL)
		return db, projections.Postgres, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, "", err
	}
	db, err := sql.Open("sqlite", "file:"+c.readModelPath()+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err == nil {
		db.SetMaxOpenConns(1)
	}
	return db, projections.SQLite, err
}

// instance is one running RouteFree: store, projections, gateway.
type instance struct {
	cfg    *Config
	log    *slog.Logger
	store  eventstore.Store
	models *projections.Models
	runner *projections.Runner
	cmds   *commands.Handler
	cat    *catalog.Catalog
	rdb    *redis.Client
	ready  atomic.Bool
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("serve", stderr)
	if err := parse(fs, c, args); err != nil {
		return err
	}
	log := newLogger(stderr, c.LogLevel)
	in := &instance{cfg: c, log: log}
	cat, err := catalog.Load(c.Catalog)
	if err != nil {
		return err
	}
	in.cat = cat
	if in.store, err = openStore(ctx, c); err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	defer in.store.Close()
	db, dialect, err := openReadModels(ctx, c)
	if err != nil {
		return fmt.Errorf("read models: %w", err)
	}
	defer db.Close()
	usage, err := projections.NewUsage(ctx, db, dialect)
	if err != nil {
		return fmt.Errorf("read models: %w", err)
	}
	in.models = projections.NewModels(usage)
	if in.runner, err = projections.NewRunner(in.store, watermill.NewSlogLogger(log), in.models.All()...); err != nil {
		return err
	}
	in.cmds = commands.New(in.store)

	runCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- in.runner.Run(runCtx) }()
	defer func() { stopRunner(); <-runnerDone }()

	// Serve only once the in-memory projections hold the whole history.
	start := time.Now()
	if err := in.catchUp(ctx); err != nil {
		return err
	}
	log.Info("projections caught up", "took_ms", time.Since(start).Milliseconds())
	if err := in.firstRun(ctx, stdout); err != nil {
		return err
	}
	go tokens.Warm()

	var limiter admission.RateLimiter = admission.NewMemoryLimiter()
	var ledger admission.Ledger = admission.NewMemoryLedger(admission.LedgerOptions{})
	if c.RedisURL != "" {
		opt, err := redis.ParseURL(c.RedisURL)
		if err != nil {
			return fmt.Errorf("--redis-url: %w", err)
		}
		in.rdb = redis.NewClient(opt)
		defer in.rdb.Close()
		limiter = admission.NewRedisLimiter(in.rdb, c.RedisPrefix)
		ledger = admission.NewRedisLedger(in.rdb, c.RedisPrefix, admission.LedgerOptions{})
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rt := router.New(cat, router.Options{})
	gw := server.New(server.Config{
		ConnectTimeout: c.ConnectTimeout, FirstByteTimeout: c.FirstByteTimeout, KeepAlive: c.KeepAlive,
		MaxBodyBytes: c.MaxBodyBytes, Logger: log,
	}, server.Deps{Store: in.store, Directory: server.Projected{M: in.models}, Router: rt,
		Limiter: limiter, Ledger: ledger, Metrics: server.NewMetrics(reg)})
	e := gw.Echo()
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", in.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	in.ready.Store(true)
	log.Info("routefree listening", "addr", ln.Addr().String(), "store", c.Store, "models", len(cat.Models))
	fmt.Fprintf(stdout, "RouteFree gateway on http://%s/api/v1\n", ln.Addr())
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return err
	case err := <-runnerDone:
		runnerDone <- err
		return fmt.Errorf("projections stopped: %v", err)
	case <-ctx.Done():
	}
	// Graceful shutdown: not ready first, then stop accepting, let in-flight
	// requests and streams finish, then flush the store (deferred Close).
	in.ready.Store(false)
	log.Info("shutting down", "grace", c.ShutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("in-flight requests cut at the end of the grace period", "err", err)
	}
	log.Info("stopped")
	return nil
}

// head returns the position of the last event in the store.
func head(ctx context.Context, s eventstore.Store) (eventstore.Position, uint64, error) {
	pos := eventstore.Start
	var n uint64
	for {
		evs, err := s.ReadAll(ctx, pos, 10000)
		if err != nil {
			return pos, n, err
		}
		if len(evs) == 0 {
			return pos, n, nil
		}
		n += uint64(len(evs))
		pos = evs[len(evs)-1].Position
	}
}

func (in *instance) catchUp(ctx context.Context) error {
	pos, _, err := head(ctx, in.store)
	if err != nil {
		return err
	}
	return in.runner.WaitFor(ctx, pos)
}

// readyz is ready when the store answers and the projections are within a
// second of the store's head.
func (in *instance) readyz(c echo.Context) error {
	if !in.ready.Load() {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "shutting down"})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	pos, _, err := head(ctx, in.store)
	if err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "event store unreachable"})
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Second)
	defer wcancel()
	if err := in.runner.WaitFor(wctx, pos); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "projections lagging", "lagging": in.runner.Lagging(pos)})
	}
	if in.rdb != nil {
		if err := in.rdb.Ping(ctx).Err(); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "redis unreachable"})
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"ready": true})
}

// firstRun publishes the catalog's prices when none exist, and with
// --bootstrap-demo opens a demo account with credit and prints its key.
func (in *instance) firstRun(ctx context.Context, stdout io.Writer) error {
	if _, _, ok := in.models.Prices.At(time.Now()); !ok {
		v, err := in.cmds.PublishPrices(ctx, in.cat.NTDPrices(), time.Now().Add(-time.Minute))
		if err != nil && !errors.Is(err, commands.ErrConflict) {
			return fmt.Errorf("publish prices: %w", err)
		}
		in.log.Info("published the catalog's price list", "version", v)
	}
	if !in.cfg.BootstrapDemo {
		return nil
	}
	const demo = "acct_demo"
	if _, _, err := in.cmds.Account(ctx, demo); err == nil {
		fmt.Fprintln(stdout, "demo account exists already; issue another key with: routefree keys issue --account acct_demo")
		return in.catchUp(ctx)
	}
	credit, err := decimal.NewFromString(in.cfg.DemoCredit)
	if err != nil {
		return fmt.Errorf("--demo-credit: %w", err)
	}
	if _, err := in.cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: demo, Organisation: "Demo 示範公司", Plan: domain.PlanStarter}); err != nil {
		return err
	}
	if _, err := in.cmds.TopUp(ctx, domain.CreditsToppedUp{AccountID: demo, Amount: credit, Method: domain.MethodAdjustment, Reference: "demo-credit"}); err != nil {
		return err
	}
	_, key, err := in.cmds.IssueKey(ctx, domain.KeyIssued{AccountID: demo, Name: "demo"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo account %s with NT$%s credit\ndemo key (shown once): %s\n", demo, credit, key)
	return in.catchUp(ctx)
}
