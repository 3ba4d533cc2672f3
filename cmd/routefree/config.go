package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the binary. Each has a flag, an environment
// variable (ROUTEFREE_<NAME>) and a default; flags win over the environment.
type Config struct {
	DataDir     string
	Store       string // sqlite | postgres | kurrentdb
	PostgresURL string
	KurrentURL  string
	RedisURL    string
	RedisPrefix string

	Listen           string
	Catalog          string
	ConnectTimeout   time.Duration
	FirstByteTimeout time.Duration
	KeepAlive        time.Duration
	MaxBodyBytes     int64
	ShutdownGrace    time.Duration
	BootstrapDemo    bool
	DemoCredit       string
	LogLevel         string

	InvoiceFont   string
	InvoiceAESKey string
}

type setting struct {
	name, env, usage string
}

// bind registers the shared settings on a flag set, defaults taken from the
// environment.
func (c *Config) bind(fs *flag.FlagSet) {
	env := func(name, def string) string {
		if v, ok := os.LookupEnv("ROUTEFREE_" + name); ok {
			return v
		}
		return def
	}
	dur := func(name string, def time.Duration) time.Duration {
		if v, ok := os.LookupEnv("ROUTEFREE_" + name); ok {
			if d, err := time.ParseDuration(v); err == nil {
				return d
			}
		}
		return def
	}
	fs.StringVar(&c.DataDir, "data-dir", env("DATA_DIR", "data"), "directory for the embedded store and read models (ROUTEFREE_DATA_DIR)")
	fs.StringVar(&c.Store, "store", env("STORE", "sqlite"), "event store backend: sqlite, postgres or kurrentdb (ROUTEFREE_STORE)")
	fs.StringVar(&c.PostgresURL, "postgres-url", env("POSTGRES_URL", ""), "PostgreSQL URL for --store postgres (ROUTEFREE_POSTGRES_URL)")
	fs.StringVar(&c.KurrentURL, "kurrentdb-url", env("KURRENTDB_URL", ""), "KurrentDB connection string for --store kurrentdb, e.g. esdb://127.0.0.1:2113?tls=false (ROUTEFREE_KURRENTDB_URL)")
	fs.StringVar(&c.RedisURL, "redis-url", env("REDIS_URL", ""), "Redis URL: share rate limits and credit holds between instances (ROUTEFREE_REDIS_URL); empty keeps them in memory")
	fs.StringVar(&c.RedisPrefix, "redis-prefix", env("REDIS_PREFIX", "rf:"), "prefix of every Redis key (ROUTEFREE_REDIS_PREFIX)")
	fs.StringVar(&c.Listen, "listen", env("LISTEN", "127.0.0.1:8080"), "address the gateway listens on (ROUTEFREE_LISTEN)")
	fs.StringVar(&c.Catalog, "catalog", env("CATALOG", ""), "model catalog JSON file; empty uses the shipped catalog (ROUTEFREE_CATALOG)")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", dur("CONNECT_TIMEOUT", 5*time.Second), "upstream connect timeout (ROUTEFREE_CONNECT_TIMEOUT)")
	fs.DurationVar(&c.FirstByteTimeout, "first-byte-timeout", dur("FIRST_BYTE_TIMEOUT", 60*time.Second), "upstream time to first byte before failing over (ROUTEFREE_FIRST_BYTE_TIMEOUT)")
	fs.DurationVar(&c.KeepAlive, "keepalive", dur("KEEPALIVE", 2*time.Second), "interval of SSE comment keep-alives while a stream waits (ROUTEFREE_KEEPALIVE)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", envInt("MAX_BODY_BYTES", 32<<20), "largest request body accepted (ROUTEFREE_MAX_BODY_BYTES)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", dur("SHUTDOWN_GRACE", 30*time.Second), "time in-flight requests get to finish on SIGTERM (ROUTEFREE_SHUTDOWN_GRACE)")
	fs.BoolVar(&c.BootstrapDemo, "bootstrap-demo", env("BOOTSTRAP_DEMO", "") == "1", "on an empty store, open a demo account with credit and print its key (ROUTEFREE_BOOTSTRAP_DEMO=1)")
	fs.StringVar(&c.DemoCredit, "demo-credit", env("DEMO_CREDIT", "1000"), "NTD credit of the demo account (ROUTEFREE_DEMO_CREDIT)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (ROUTEFREE_LOG_LEVEL)")
	fs.StringVar(&c.InvoiceFont, "invoice-font", env("INVOICE_FONT", ""), "TrueType font for invoice PDFs; empty uses the embedded AR PL Mingti2L Big5 (ROUTEFREE_INVOICE_FONT)")
	fs.StringVar(&c.InvoiceAESKey, "invoice-aes-key", env("INVOICE_AES_KEY", ""), "hex AES key for the e-invoice QR verification field (ROUTEFREE_INVOICE_AES_KEY)")
}

func envInt(name string, def int64) int64 {
	if v, ok := os.LookupEnv("ROUTEFREE_" + name); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return def
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	switch c.Store {
	case "sqlite":
		if c.DataDir == "" {
			errs = append(errs, errors.New("--data-dir is required for the sqlite store"))
		}
	case "postgres":
		if c.PostgresURL == "" {
			errs = append(errs, errors.New("--store postgres needs --postgres-url or ROUTEFREE_POSTGRES_URL"))
		}
	case "kurrentdb":
		if c.KurrentURL == "" {
			errs = append(errs, errors.New("--store kurrentdb needs --kurrentdb-url or ROUTEFREE_KURRENTDB_URL"))
		}
	default:
		errs = append(errs, fmt.Errorf("--store %q: choose sqlite, postgres or kurrentdb", c.Store))
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		errs = append(errs, fmt.Errorf("--redis-url %q must start with redis:// or rediss://", c.RedisURL))
	}
	if c.ConnectTimeout <= 0 || c.FirstByteTimeout <= 0 {
		errs = append(errs, errors.New("timeouts must be positive"))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("--max-body-bytes must be at least 1024"))
	}
	if c.ShutdownGrace < 0 {
		errs = append(errs, errors.New("--shutdown-grace must not be negative"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: choose debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

func (c *Config) sqlitePath() string    { return filepath.Join(c.DataDir, "events.db") }
func (c *Config) readModelPath() string { return filepath.Join(c.DataDir, "readmodels.db") }
