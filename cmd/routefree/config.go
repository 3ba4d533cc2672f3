package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/console"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/router"
	"github.com/routefree/routefree/invoicing"
)

// Config is every setting of the binary. Each value comes from, in
// increasing priority: its default, a config file (ROUTEFREE_CONFIG or
// --config), the environment (ROUTEFREE_<NAME>), the command line. The
// settings that have no flag (envSettings, the catalog's variables) come
// from the environment, then the config file: read them with Getenv.
type Config struct {
	ConfigFile  string
	DataDir     string
	Store       string // sqlite | postgres | kurrentdb
	PostgresURL string
	KurrentURL  string
	RedisURL    string
	RedisPrefix string

	Listen             string
	Catalog            string
	ConnectTimeout     time.Duration
	FirstByteTimeout   time.Duration
	UnaryTimeout       time.Duration
	ClientWriteTimeout time.Duration
	BodyReadTimeout    time.Duration
	KeepAlive          time.Duration
	MaxBodyBytes       int64
	BreakerThreshold   int
	BreakerCooldown    time.Duration
	ShutdownDelay      time.Duration
	ShutdownGrace      time.Duration
	ReadyMaxLag        time.Duration
	MetricsInterval    time.Duration
	BootstrapDemo      bool
	DemoCredit         string
	LogLevel           string
	DebugListen        string
	TrustedProxies     string

	InvoiceFont   string
	InvoiceAESKey string

	MaxTopUp string // NTD bound on one top-up or credit adjustment

	MaxKeysPerAccount int // bound on an account's live keys
	MaxNewKeysPerHour int // bound on the keys an account's own keys and people make in an hour

	// LowBalance is in NTD: the console warns below this credit left, at least.
	LowBalance string

	serving     bool               // serve: the upstreams' base URLs are checked too
	shared      map[string]bool    // names of the settings this command takes
	known       map[string]bool    // every setting's name, whichever command takes it
	fileVars    map[string]fileVar // the config file's settings that have no flag, by variable name
	fileSecrets map[string]string  // the config file's settings that are secrets: their file, by variable name
	fileCatalog string             // the config file's catalog, for a command that does not take --catalog
	problems    []error            // bad file or environment values, reported by Validate

	stderr      io.Writer    // a command's warnings
	log         *slog.Logger // serve's, which takes its warnings
	madePrivate bool         // makeDataPrivate has run
}

// fileVar is a setting that has no flag, as a config file gives it.
type fileVar struct{ path, key, value string }

// envSettings are the settings that have no flag, read through a getenv by
// the code that uses them. Besides them, the catalog's variables (its
// upstreams' keys, base URLs and regions) are settings too.
func envSettings() []string {
	return slices.Concat(ssoSettings, paymentSettings, invoicing.SellerEnv(), []string{console.AdminTokenEnv, envTurnkeyDir})
}

// Getenv reads a setting that has no flag: from the environment, else from
// the config file.
func (c *Config) Getenv(name string) string {
	if v, ok := lookupEnv(name); ok {
		return v
	}
	return c.fileVars[name].value
}

// lookupEnv reads a setting's variable. One set to nothing (VAR= in a
// compose or env file) is not set: the setting keeps the config file's
// value or its default.
func lookupEnv(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	return v, ok && v != ""
}

// secretFileWarnings warns of each settings file that holds secrets (a
// name ending in SECRET, KEY, HASH_IV, TOKEN or PASSWORD, as a client
// secret, a provider's key or the ECPay hash key do) and that others on
// the machine may read. It names the secrets, never their values. serve
// logs them and goes on: a mounted secret is often 0644 in a container
// whose only user is the service.
func (c *Config) secretFileWarnings() []string {
	byFile := map[string][]string{}
	for name, path := range c.fileSecrets {
		if _, inEnv := lookupEnv(name); !inEnv {
			byFile[path] = append(byFile[path], name)
		}
	}
	var out []string
	for path, names := range byFile {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm()&0o077 == 0 {
			continue
		}
		sort.Strings(names)
		out = append(out, fmt.Sprintf("settings file %s holds %s and others may read it (mode %04o): chmod 600 %s",
			path, strings.Join(names, ", "), st.Mode().Perm(), path))
	}
	sort.Strings(out)
	return out
}

// noteSecret records that a settings file gives the setting of variable
// name, when it is a secret.
func (c *Config) noteSecret(name, path string) {
	if !secretName(name) {
		return
	}
	if c.fileSecrets == nil {
		c.fileSecrets = map[string]string{}
	}
	c.fileSecrets[name] = path
}

func secretName(name string) bool {
	for _, suffix := range []string{"SECRET", "KEY", "HASH_IV", "TOKEN", "PASSWORD"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// envName is a setting's environment variable: --data-dir → ROUTEFREE_DATA_DIR.
func envName(flagName string) string {
	return "ROUTEFREE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// settingName maps a config-file key (data-dir, data_dir, DATA_DIR or
// ROUTEFREE_DATA_DIR) to its flag name.
func settingName(key string) string {
	k := strings.ToLower(strings.TrimSpace(key))
	k = strings.TrimPrefix(k, "routefree_")
	return strings.ReplaceAll(k, "_", "-")
}

// bind registers on cmd the settings the command takes (wants; nil: every
// one), then layers the config file named by ROUTEFREE_CONFIG and the
// environment over their defaults. A --config on the command line is layered
// when parsed, under the environment and flags. A setting the command does
// not take is ignored in the file and the environment, so one file serves
// serve and the CLI alike.
func (c *Config) bind(cmd *flag.FlagSet, wants func(name string) bool) {
	fs := flag.NewFlagSet(cmd.Name(), flag.ContinueOnError) // every setting; cmd gets those it takes
	fs.StringVar(&c.DataDir, "data-dir", "data", "directory for the embedded store and read models")
	fs.StringVar(&c.Store, "store", "sqlite", "event store backend: sqlite, postgres or kurrentdb")
	fs.StringVar(&c.PostgresURL, "postgres-url", "", "PostgreSQL URL for --store postgres; its search_path chooses the schema")
	fs.StringVar(&c.KurrentURL, "kurrentdb-url", "", "KurrentDB connection string for --store kurrentdb, e.g. esdb://127.0.0.1:2113?tls=false")
	fs.StringVar(&c.RedisURL, "redis-url", "", "Redis URL that shares rate limits and credit holds between instances; empty keeps them in memory (one instance only)")
	fs.StringVar(&c.RedisPrefix, "redis-prefix", "rf:", "prefix of every Redis key; none: --redis-prefix '' on the command line (an empty variable or file key is unset)")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "host:port the gateway listens on")
	fs.StringVar(&c.Catalog, "catalog", "", "model catalog JSON file; empty uses the shipped catalog")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", 5*time.Second, "upstream connect timeout")
	fs.DurationVar(&c.FirstByteTimeout, "first-byte-timeout", 60*time.Second, "a stream's upstream time to its first chunk before failing over")
	fs.DurationVar(&c.UnaryTimeout, "unary-timeout", 10*time.Minute, "an upstream's time to a non-streamed answer, which comes whole once written; past it a 504, not failed over")
	fs.DurationVar(&c.ClientWriteTimeout, "client-write-timeout", time.Minute, "a client that takes no bytes of an answer (a stream, a completion, a download) for this long is cut, and its request ends")
	fs.DurationVar(&c.BodyReadTimeout, "body-read-timeout", 30*time.Second, "a request body that stops coming for this long is answered 408")
	fs.DurationVar(&c.KeepAlive, "keepalive", 2*time.Second, "interval of SSE comment keep-alives while a stream waits")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 32<<20, "largest request body accepted, in bytes")
	fs.IntVar(&c.BreakerThreshold, "breaker-threshold", 5, "consecutive upstream failures that open its circuit breaker")
	fs.DurationVar(&c.BreakerCooldown, "breaker-cooldown", 30*time.Second, "how long an open breaker keeps an upstream out")
	fs.DurationVar(&c.ShutdownDelay, "shutdown-delay", 0, "on SIGTERM, time /readyz reports 503 while still serving, so load balancers stop sending first")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 30*time.Second, "on SIGTERM, time in-flight requests and streams get to finish")
	fs.DurationVar(&c.ReadyMaxLag, "ready-max-lag", time.Second, "/readyz fails when the projections need longer than this to reach the store's head")
	fs.DurationVar(&c.MetricsInterval, "metrics-interval", 5*time.Second, "how often projection lag, breaker and dependency gauges are refreshed")
	fs.BoolVar(&c.BootstrapDemo, "bootstrap-demo", false, "on an empty store, open a demo account with credit and print its key")
	fs.StringVar(&c.DemoCredit, "demo-credit", "1000", "NTD credit of the demo account")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDR ranges of the reverse proxies in front; their X-Forwarded-For names the client (sign-in throttling). Empty: the connection's address, whatever the headers say")
	fs.StringVar(&c.DebugListen, "debug-listen", "", "host:port serving Go's profiler (/debug/pprof/) on its own listener; empty serves none. Keep it on loopback")
	fs.StringVar(&c.InvoiceFont, "invoice-font", "", "TrueType font for invoice PDFs; empty uses the embedded font")
	fs.StringVar(&c.InvoiceAESKey, "invoice-aes-key", "", "hex AES key for the e-invoice QR verification field")
	fs.StringVar(&c.MaxTopUp, "max-topup", "1000000", "largest single top-up or credit adjustment, NTD (console, admin API and CLI)")
	fs.IntVar(&c.MaxKeysPerAccount, "max-keys-per-account", commands.DefaultMaxKeysPerAccount, "most live (not revoked) keys one account may hold; a key past it is refused (console, admin API, /api/v1/keys and keys issue)")
	fs.IntVar(&c.MaxNewKeysPerHour, "max-new-keys-per-hour", commands.DefaultMaxNewKeysPerHour, "most keys one account's own keys and people may make in any hour, revoked ones included; a key past it is refused with 429 and Retry-After (console, admin API, /api/v1/keys and an app's OAuth exchange; staff and keys issue are not bound)")
	fs.StringVar(&c.LowBalance, "low-balance", "100", "NTD: the console warns a customer whose credit left is below this, or below 10% of their last top-up (of the credit limit when postpaid) if that is more")

	c.shared, c.known, c.serving = map[string]bool{}, map[string]bool{}, wants == nil
	fs.VisitAll(func(f *flag.Flag) {
		c.known[f.Name] = true
		if wants == nil || wants(f.Name) {
			c.shared[f.Name] = true
			cmd.Var(f.Value, f.Name, f.Usage+" ("+envName(f.Name)+")")
		}
	})
	fs = cmd
	fs.Func("config", "settings `FILE`: KEY=value lines or a JSON object, below the environment and flags; also the settings without a flag, named as their variables (ROUTEFREE_OIDC_*, ROUTEFREE_SELLER_*, provider keys, …) (ROUTEFREE_CONFIG)", func(path string) error {
		c.ConfigFile = path
		c.applyFile(fs, path, true)
		return nil
	})
	if p, ok := lookupEnv("ROUTEFREE_CONFIG"); ok {
		c.ConfigFile = p
		c.applyFile(fs, p, false)
	}
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := lookupEnv(envName(f.Name))
		if !ok || !c.shared[f.Name] {
			return
		}
		// Value.Set, not fs.Set: the flag is not marked as given on the
		// command line, so a --config file can tell the two apart.
		if err := setValue(f, v); err != nil {
			c.problems = append(c.problems, fmt.Errorf("%s=%s: %v", envName(f.Name), domain.Quote(v), err))
		}
	})
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s [flags]\n\n", fs.Name())
		fmt.Fprintln(w, "Each setting comes from, in increasing priority: its default, the config file")
		fmt.Fprintln(w, "(--config or ROUTEFREE_CONFIG: KEY=value lines or a JSON object, keys named like")
		fmt.Fprintln(w, "the flag or its variable), the ROUTEFREE_* environment variable, the flag.")
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
	}
}

// applyFile layers a settings file: a key takes effect unless its
// environment variable is set or (for --config) its flag was already given.
func (c *Config) applyFile(fs *flag.FlagSet, path string, fromFlag bool) {
	vals, err := readSettingsFile(path)
	if err != nil {
		c.problems = append(c.problems, fmt.Errorf("config file %s: %v", path, err))
		return
	}
	given := map[string]bool{}
	if fromFlag {
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	}
	// A setting's flag name, or its variable's when it has no flag.
	id := func(key string) string {
		if name := settingName(key); c.known[name] {
			return name
		}
		return strings.ToUpper(key)
	}
	last := map[string]int{} // a later line of a setting wins
	for i, kv := range vals {
		last[id(kv[0])] = i
	}
	for i, kv := range vals {
		key, v := kv[0], kv[1]
		if last[id(key)] != i {
			continue
		}
		name := settingName(key)
		if !c.known[name] {
			// A setting without a flag, named as its variable; Validate
			// refuses the names nothing reads, once --catalog is known.
			if c.fileVars == nil {
				c.fileVars = map[string]fileVar{}
			}
			c.fileVars[id(key)] = fileVar{path, key, v}
			c.noteSecret(id(key), path)
			continue
		}
		if !c.shared[name] {
			if name == "catalog" {
				c.fileCatalog = v
			}
			continue // another command's setting
		}
		if _, inEnv := lookupEnv(envName(name)); inEnv || given[name] || v == "" {
			continue
		}
		c.noteSecret(envName(name), path) // --invoice-aes-key
		if err := setValue(fs.Lookup(name), v); err != nil {
			c.problems = append(c.problems, fmt.Errorf("config file %s: %s=%s: %v", path, name, domain.Quote(v), err))
		}
	}
}

// unknownFileVars are the config file's names that no setting has: a
// misspelt one would otherwise be ignored.
func (c *Config) unknownFileVars() []error {
	known := map[string]bool{}
	for _, n := range envSettings() {
		known[n] = true
	}
	names := make([]string, 0, len(c.fileVars))
	for n := range c.fileVars {
		if !known[n] {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	cat, err := catalog.Load(c.catalogPath())
	if err != nil {
		return nil // its variables are unknown; serve reports the catalog itself
	}
	for _, n := range cat.EnvVars() {
		known[n] = true
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		if fv := c.fileVars[n]; !known[n] {
			errs = append(errs, fmt.Errorf("config file %s: unknown setting %q", fv.path, fv.key))
		}
	}
	return errs
}

// catalogPath is the catalog serve would load, also for a command that does
// not take --catalog.
func (c *Config) catalogPath() string {
	if c.shared["catalog"] {
		return c.Catalog
	}
	if p, ok := lookupEnv(envName("catalog")); ok {
		return p
	}
	return c.fileCatalog
}

// setValue sets a setting from a file or the environment. A value that
// does not parse leaves the one before (flag's own Set zeroes a duration),
// so the setting is reported once, for the form it wants.
func setValue(f *flag.Flag, v string) error {
	before := f.Value.String()
	if err := f.Value.Set(v); err != nil {
		_ = f.Value.Set(before)
		return valueError(f, err)
	}
	return nil
}

// valueError says what form a setting wants, where the flag package says
// only "parse error".
func valueError(f *flag.Flag, err error) error {
	g, ok := f.Value.(flag.Getter)
	if !ok || !strings.HasSuffix(err.Error(), "parse error") {
		return err
	}
	switch g.Get().(type) {
	case time.Duration:
		return errors.New(`want a duration such as "5s", "300ms" or "1m30s"`)
	case int, int64, uint, uint64:
		return errors.New("want a whole number")
	case bool:
		return errors.New("want true or false")
	}
	return err
}

// readSettingsFile reads KEY=value lines (an env file: # comments, optional
// "export ", optional quotes) or, if it starts with '{', a JSON object.
// It returns each key as written with its value, in the file's order (a
// JSON object's sorted), so that a later line wins.
func readSettingsFile(path string) ([][2]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(t))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return nil, fmt.Errorf("JSON: %v", err)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch v := m[k].(type) {
			case string:
				out = append(out, [2]string{strings.TrimSpace(k), v})
			case json.Number, bool:
				out = append(out, [2]string{strings.TrimSpace(k), fmt.Sprint(v)})
			default:
				return nil, fmt.Errorf("%q: value must be a string, number or boolean", k)
			}
		}
		return out, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("line %d: want KEY=value", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out = append(out, [2]string{strings.TrimSpace(k), v})
	}
	return out, sc.Err()
}

// Validate reports every problem at once.
func (c *Config) Validate() error { return errors.Join(c.configProblems()...) }

// configProblems are the configuration's problems, each its own error.
func (c *Config) configProblems() []error {
	errs := append(append([]error(nil), c.problems...), c.unknownFileVars()...)
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
		errs = append(errs, fmt.Errorf("--store %s: choose sqlite, postgres or kurrentdb", domain.Quote(c.Store)))
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") && !strings.HasPrefix(c.RedisURL, "unix://") {
		errs = append(errs, errors.New("--redis-url must start with redis://, rediss:// or unix://"))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %s: want host:port (%s)", domain.Quote(c.Listen), domain.ExcerptWords(err.Error())))
	}
	if _, err := c.trustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if c.Catalog != "" {
		if _, err := os.Stat(c.Catalog); err != nil {
			errs = append(errs, fmt.Errorf("--catalog: %v", err))
		}
	}
	if c.serving {
		errs = append(errs, c.upstreamProblems()...)
	}
	if c.ConnectTimeout <= 0 || c.FirstByteTimeout <= 0 || c.UnaryTimeout <= 0 || c.ClientWriteTimeout <= 0 || c.BodyReadTimeout <= 0 {
		errs = append(errs, errors.New("--connect-timeout, --first-byte-timeout, --unary-timeout, --client-write-timeout and --body-read-timeout must be positive"))
	}
	if c.KeepAlive <= 0 {
		errs = append(errs, errors.New("--keepalive must be positive"))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("--max-body-bytes must be at least 1024"))
	}
	if c.BreakerThreshold < 1 || c.BreakerCooldown <= 0 {
		errs = append(errs, errors.New("--breaker-threshold must be at least 1 and --breaker-cooldown positive"))
	}
	if c.ShutdownGrace < 0 || c.ShutdownDelay < 0 {
		errs = append(errs, errors.New("--shutdown-grace and --shutdown-delay must not be negative"))
	}
	if c.ReadyMaxLag <= 0 || c.MetricsInterval <= 0 {
		errs = append(errs, errors.New("--ready-max-lag and --metrics-interval must be positive"))
	}
	// Amounts are written plainly, as the CLI's and the console's are. The
	// demo credit is a top-up: checked here, before anything is stored, a
	// refusal cannot leave a demo account opened without its credit or key.
	// It is bounded as credit and spending limits are: a top-up beyond
	// that (zeros too many) would be invoiced for an amount past what an
	// invoice holds and make a balance the gateway cannot hold.
	maxTopUp, ok := commands.PlainAmount(c.MaxTopUp)
	if !ok || !maxTopUp.IsPositive() || maxTopUp.GreaterThan(commands.MaxLimit) {
		errs = append(errs, fmt.Errorf("--max-topup %s: want a positive amount of NTD, at most %s", domain.Quote(c.MaxTopUp), commands.MaxLimit))
	}
	// Only --bootstrap-demo tops up the demo credit: a CLI command given a
	// lower --max-topup is not refused for it.
	demo, ok := commands.PlainAmount(c.DemoCredit)
	if !ok || (c.BootstrapDemo && (!demo.IsPositive() || !demo.IsInteger() || (maxTopUp.IsPositive() && demo.GreaterThan(maxTopUp)))) {
		errs = append(errs, fmt.Errorf("--demo-credit %s: want a whole number of NTD, 1 or more and at most --max-topup (a top-up's bounds)", domain.Quote(c.DemoCredit)))
	}
	if c.MaxKeysPerAccount < 1 {
		errs = append(errs, fmt.Errorf("--max-keys-per-account %d: want 1 or more", c.MaxKeysPerAccount))
	}
	if c.MaxNewKeysPerHour < 1 {
		errs = append(errs, fmt.Errorf("--max-new-keys-per-hour %d: want 1 or more", c.MaxNewKeysPerHour))
	}
	if d, ok := commands.PlainAmount(c.LowBalance); !ok || d.IsNegative() {
		errs = append(errs, fmt.Errorf("--low-balance %s: want an amount of NTD, 0 or more", domain.Quote(c.LowBalance)))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %s: choose debug, info, warn or error", domain.Quote(c.LogLevel)))
	}
	if c.InvoiceAESKey != "" {
		if k, err := hex.DecodeString(c.InvoiceAESKey); err != nil || (len(k) != 16 && len(k) != 24 && len(k) != 32) {
			errs = append(errs, errors.New("--invoice-aes-key must be 32, 48 or 64 hex digits"))
		}
	}
	return errs
}

// upstreamProblems are the bad upstream base URLs the environment (or the
// catalog) gives: each would fail every request it served.
func (c *Config) upstreamProblems() []error {
	if c.Catalog != "" {
		if _, err := os.Stat(c.Catalog); err != nil {
			return nil // reported as --catalog's
		}
	}
	cat, err := catalog.Load(c.Catalog)
	if err != nil {
		return []error{fmt.Errorf("--catalog: %v", err)}
	}
	return router.CheckBaseURLs(cat, c.Getenv)
}

// maxTopUp is --max-topup, checked by Validate.
func (c *Config) maxTopUp() decimal.Decimal {
	d, _ := decimal.NewFromString(c.MaxTopUp)
	return d
}

func (c *Config) sqlitePath() string    { return filepath.Join(c.DataDir, "events.db") }
func (c *Config) readModelPath() string { return filepath.Join(c.DataDir, "readmodels.db") }

// trustedProxies parses --trusted-proxies: addresses (a /32 or /128 each)
// and CIDR ranges.
func (c *Config) trustedProxies() ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("--trusted-proxies: %q is neither an address nor a CIDR range", f)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %v", err)
		}
		out = append(out, n)
	}
	return out, nil
}
