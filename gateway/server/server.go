// Package server is RouteFree's OpenAI-compatible face: /api/v1 on echo.
// One request flows: id and body checks → key → rate limit → credit hold →
// route → provider adapter with failover → relay → cost → durable usage
// event → settle. See chat.go.
package server

import (
	"context"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/directhttp"
	"github.com/routefree/routefree/gateway/router"
)

// Config tunes the gateway.
type Config struct {
	ConnectTimeout   time.Duration // dialing an upstream
	FirstByteTimeout time.Duration // a stream's upstream response headers and first chunk
	// UnaryTimeout bounds an upstream's whole answer to a non-streamed
	// request, which comes only once it is all written.
	UnaryTimeout time.Duration
	KeepAlive    time.Duration // SSE comment interval while a stream waits
	// StreamIdleTimeout cuts an upstream stream silent for this long.
	StreamIdleTimeout time.Duration
	// KeyRecheck is how often a stream looks its key up again, to end
	// it once the key is revoked or disabled or its account suspended.
	KeyRecheck time.Duration
	// ClientWriteTimeout cuts a client that takes no bytes of an answer for
	// this long: its request ends rather than wait on a full socket. It
	// applies through the listener (CutStalledWriters), which whoever
	// serves the gateway wraps with it.
	ClientWriteTimeout time.Duration
	// BodyReadTimeout answers 408 to a client whose request body stops
	// coming for this long.
	BodyReadTimeout time.Duration
	MaxBodyBytes    int64
	Logger          *slog.Logger
	Now             func() time.Time
}

func (c *Config) defaults() {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.FirstByteTimeout <= 0 {
		c.FirstByteTimeout = 60 * time.Second
	}
	if c.UnaryTimeout <= 0 {
		// The official SDKs' own default: past it the client has gone.
		c.UnaryTimeout = 10 * time.Minute
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = 2 * time.Second
	}
	if c.KeyRecheck <= 0 {
		c.KeyRecheck = time.Second
	}
	if c.StreamIdleTimeout <= 0 {
		c.StreamIdleTimeout = 5 * time.Minute
	}
	if c.ClientWriteTimeout <= 0 {
		c.ClientWriteTimeout = time.Minute
	}
	if c.BodyReadTimeout <= 0 {
		c.BodyReadTimeout = 30 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 32 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Deps are the parts the gateway runs on.
type Deps struct {
	Store     eventstore.Store
	Directory Directory
	Router    *router.Router
	Limiter   admission.RateLimiter
	Ledger    admission.Ledger
	Metrics   *Metrics // optional
	// Projections, when set, is waited on before a key's own figures are
	// read (/credits, /key, /generation): see Server.caughtUp.
	Projections Projections
}

// Projections is how far the read models behind the Directory have got.
// projections.Runner is one.
type Projections interface {
	// WaitFor blocks until every read model has applied pos, or ctx ends.
	WaitFor(ctx context.Context, pos eventstore.Position) error
	// Slowest is the position of the read model furthest behind.
	Slowest() eventstore.Position
}

// Server is the gateway.
type Server struct {
	cfg  Config
	deps Deps
	echo *echo.Echo
	hc   *http.Client
	// hooks for tests that inject failures into the request path.
	afterHold func()
	// storeFailedAt is when an append last failed (unix nanoseconds; 0 after
	// a success): while the store is down, requests are refused before any
	// upstream is called, rather than after.
	storeFailedAt atomic.Int64
	// background counts failure events still being appended (Drain).
	background sync.WaitGroup
	// appended is the position of the last request event this gateway
	// appended: what a read of a key's figures waits for.
	appendedMu sync.Mutex
	appended   eventstore.Position
	// stalled is set when a wait for the read models ran out, with the
	// slowest one's position then: until it moves, reads do not wait again.
	stallMu   sync.Mutex
	stalled   bool
	stalledAt eventstore.Position
}

// freshWait bounds how long a read of a key's figures waits for the read
// models; past it the figures are answered as they are.
const freshWait = time.Second

// noteAppended records a request event's position for caughtUp.
func (s *Server) noteAppended(pos eventstore.Position) {
	s.appendedMu.Lock()
	if s.appended.Less(pos) {
		s.appended = pos
	}
	s.appendedMu.Unlock()
}

// caughtUp waits until the read models have applied every request event
// this gateway had appended when the read came in. Read models apply a
// commit a moment after it (subscriptions wait for the next commits to read
// them together); a client that asks for its balance, its key's usage or a
// generation right after its request's last byte reads that request in
// them. The wait hurries the read models and is usually well under a
// millisecond. Requests served by another instance are read as soon as
// this one's read models have them.
//
// Read models that do not get there within freshWait have stalled (a
// projection failing on an event retries it without end): the read answers
// with what they hold, and later reads answer at once, without waiting,
// until the slowest read model moves again.
func (s *Server) caughtUp(ctx context.Context) {
	p := s.deps.Projections
	if p == nil {
		return
	}
	s.appendedMu.Lock()
	pos := s.appended
	s.appendedMu.Unlock()
	if pos == eventstore.Start || s.stillStalled(p) {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, freshWait)
	defer cancel()
	if err := p.WaitFor(wctx, pos); err != nil && ctx.Err() == nil { // not a client that left
		s.stallMu.Lock()
		s.stalled, s.stalledAt = true, p.Slowest()
		s.stallMu.Unlock()
		s.cfg.Logger.Warn("read models stalled: answering with figures behind the store, without waiting until they move", "err", err)
	}
}

// stillStalled says whether the read models are where a wait found them
// stalled; once the slowest has moved, reads wait for them again.
func (s *Server) stillStalled(p Projections) bool {
	s.stallMu.Lock()
	defer s.stallMu.Unlock()
	if !s.stalled {
		return false
	}
	if s.stalledAt.Less(p.Slowest()) {
		s.stalled = false
		s.cfg.Logger.Info("read models moving again")
		return false
	}
	return true
}

// storeDownFor is how long one failed append makes the gateway refuse new
// requests; every refused request's failure event probes the store again.
const storeDownFor = 2 * time.Second

func (s *Server) noteAppend(err error) {
	if err != nil {
		s.storeFailedAt.Store(time.Now().UnixNano())
	} else if s.storeFailedAt.Load() != 0 {
		s.storeFailedAt.Store(0)
	}
}

func (s *Server) storeDown(now time.Time) bool {
	t := s.storeFailedAt.Load()
	return t != 0 && now.UnixNano()-t < int64(storeDownFor)
}

// Drain waits for the failure events still being appended; call it after the
// listener stopped and before the store closes.
func (s *Server) Drain() { s.background.Wait() }

// New builds the gateway and its routes.
func New(cfg Config, deps Deps) *Server {
	cfg.defaults()
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics(nil)
	}
	s := &Server{cfg: cfg, deps: deps}
	// Upstream calls are made on the request's own goroutine (directhttp):
	// net/http's Transport would hand each one to two goroutines of its own
	// and back, wake-ups a lone request waits for.
	// The wait for an answer is each attempt's own (call.try: a stream's
	// first byte, a unary answer whole), not the transport's.
	s.hc = &http.Client{Transport: &directhttp.Transport{
		Dial:           (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdlePerHost: 256,
		IdleTimeout:    90 * time.Second,
	}}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = httpErrorHandler
	e.Pre(apiCORS)
	e.Use(s.recoverer)
	api := e.Group("/api/v1")
	api.POST("/chat/completions", s.chatCompletions)
	api.POST("/messages", s.messages)
	api.POST("/messages/count_tokens", s.countTokens)
	api.POST("/responses", s.responses)
	api.POST("/embeddings", s.embeddings)
	api.POST("/completions", s.completions)
	api.GET("/models", s.listModels)
	api.GET("/models/:author/:slug", s.modelOrEndpoints)
	api.GET("/models/:id", s.getModel)          // the model's ID with its slash escaped
	api.GET("/model/:author/:slug", s.getModel) // the OpenRouter SDK's models.get
	api.GET("/model/:id", s.getModel)
	api.GET("/models/:author/:slug/endpoints", s.modelEndpoints)
	api.GET("/models/count", s.modelsCount)
	api.GET("/embeddings/models", s.listEmbeddingModels)
	api.GET("/models/user", s.listUserModels, noStore)
	api.GET("/endpoints/zdr", s.zdrEndpoints)
	api.GET("/providers", s.providers)
	api.GET("/generation", s.generation, noStore)
	api.GET("/generation/content", s.generationContent, noStore)
	api.GET("/key", s.keyInfo, noStore)
	api.GET("/auth/key", s.keyInfo, noStore) // OpenRouter's first path for it, which apps still call
	api.GET("/credits", s.credits, noStore)
	s.echo = e
	return s
}

// apiCORS lets browsers of any origin call /api/v1, as OpenRouter's API
// does (a web app calling it with its user's key). Its callers present
// keys, never cookies, so no credentials are allowed; the console and the
// admin API, which take cookies, answer no CORS. A request without an
// Origin (a server's SDK: nearly every request) skips it whole, so the
// hot path gains not even a Vary header. It runs before routing, so that
// a preflight is answered whatever route it names.
var apiCORS = middleware.CORSWithConfig(middleware.CORSConfig{
	Skipper: func(c echo.Context) bool {
		r := c.Request()
		return !strings.HasPrefix(r.URL.Path, "/api/v1/") || r.Method != http.MethodOptions && r.Header.Get(echo.HeaderOrigin) == ""
	},
	AllowOrigins: []string{"*"},
	AllowMethods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
	// No AllowHeaders: a preflight is allowed the headers it asks for
	// (Authorization, HTTP-Referer, X-Title, Anthropic's…).
	ExposeHeaders: []string{"X-Request-Id", "Retry-After",
		"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests",
		"X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"},
	MaxAge: 24 * 60 * 60,
})

// noStore keeps a key's own figures out of browser and proxy caches: these
// GETs answer per key, and a cached copy would outlive the key.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// Echo exposes the router so other faces (console, admin, metrics, health)
// mount on the same listener.
func (s *Server) Echo() *echo.Echo { return s.echo }

// ServeHTTP makes the gateway an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// recoverer turns a panic into a 500 in the usual shape (the chat handler
// has already released its hold in its own deferred cleanup).
func (s *Server) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.cfg.Logger.Error("panic in handler", "panic", r, "path", c.Path())
				err = apiErr(http.StatusInternalServerError, "panic", "internal error", nil)
			}
		}()
		return next(c)
	}
}

// newRequestID returns "gen-" and the 32 hex digits of a UUIDv7: unique,
// time-ordered (cheap to index) and the source of the request's event ID.
func newRequestID() string {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	var b [36]byte
	copy(b[:], "gen-")
	hex.Encode(b[4:], id[:])
	return string(b[:])
}
