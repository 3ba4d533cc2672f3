package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	fastjson "github.com/segmentio/encoding/json"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers"
	"github.com/routefree/routefree/gateway/router"
	"github.com/routefree/routefree/projections"
)

// call is one chat request on its way through the gateway.
type call struct {
	s     *Server
	c     echo.Context
	id    string
	start time.Time

	req      *chat.Request
	key      Key
	keyHash  string // the key's hash, to look it up again mid-stream
	acct     Account
	model    *catalog.Model // the model being tried; after an answer, the one that answered
	priceVer int
	price    domain.ModelPrice // model's price, which the request is billed at
	est      estimate
	// chain is the request's model and then its fallbacks (OpenRouter's
	// models list), each with its price, in the order they are tried.
	chain []priced

	holdAmount decimal.Decimal
	held       bool // a credit hold is active
	renewal    *holdRenewal
	admitted   bool // the rate limiter took a slot
	done       bool // the request's event is written (or queued)

	attempts int
	target   *router.Target
	ttfb     time.Duration
	// cancelUpstream ends the successful attempt's upstream call.
	cancelUpstream context.CancelFunc
	// midErr is what broke the stream after content went out.
	midErr error
	// nativeFinish is the provider's own finish reason where it differs
	// from the normalised one (Anthropic's max_tokens for length), for the
	// request's event.
	nativeFinish string
	// stopped is the refusal of the request's key, met mid-stream: it was
	// revoked or disabled, or its account suspended.
	stopped *APIError
	referer string
	title   string
	// routing is the request's provider object and data requirement.
	routing *routing
	// variantSort is the provider.sort a model variant (:nitro, :floor)
	// asked for, "" if none.
	variantSort string
	// prompt writes the answer of a request that gave a prompt in place of
	// messages, standing in for the client's connection; nil otherwise.
	prompt *promptWriter
}

func (s *Server) chatCompletions(c echo.Context) error { return s.serveCall(c, (*call).run) }

// serveCall runs one billed request: chat, or embeddings.
func (s *Server) serveCall(c echo.Context, run func(*call) error) error {
	k := &call{s: s, c: c, id: newRequestID(), start: s.cfg.Now()}
	c.Response().Header().Set("X-Request-Id", k.id)
	orig := c.Response().Writer
	err := k.serve(run)
	if k.prompt == nil {
		return err
	}
	// The answer of a prompt, held or streamed through its writer, is
	// finished once the request is recorded, as throughChat does.
	c.Response().Writer = orig
	if err != nil && !k.prompt.wrote() {
		return err
	}
	return k.prompt.finish()
}

func (k *call) serve(run func(*call) error) error {
	// Whatever happens below — an error, a panic, a client gone — the hold
	// and the rate-limit estimate are given back and the request is recorded.
	defer k.cleanup()
	if err := run(k); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return k.fail(ae)
		}
		return err
	}
	return nil
}

func (k *call) run() error {
	s := k.s
	r := k.c.Request()
	// 2 (first). key → account, plan. The key is checked before a byte of
	// the body is read: a caller without a key costs nothing to refuse.
	if err := k.authenticate(); err != nil {
		return err
	}
	// 1. body limits and JSON validation (chat.Parse bounds the nesting and
	// checks the UTF-8 with a flat scan before any recursive decoding).
	body, err := readBody(k.c.Response(), r, s.cfg.MaxBodyBytes, s.cfg.BodyReadTimeout)
	if err != nil {
		return err
	}
	req, err := chat.Parse(body)
	if err != nil {
		var ve *chat.ValidationError
		if errors.As(err, &ve) {
			return apiErr(http.StatusBadRequest, "invalid_request", ve.Error(), map[string]any{"param": ve.Param})
		}
		return apiErr(http.StatusBadRequest, "invalid_request", err.Error(), nil)
	}
	k.req = req
	k.attribute(r)
	if req.FromPrompt {
		k.prompt = newPromptWriter(k.c.Response().Writer)
		k.c.Response().Writer = k.prompt
	}

	// 5 (early). route: an unknown model is a 404 before any limit is spent.
	if err := k.resolveModels(); err != nil {
		return err
	}
	for _, p := range k.chain {
		if slices.Contains(p.model.OutputModalities, "embeddings") {
			return apiErr(http.StatusBadRequest, "embedding_model",
				fmt.Sprintf("%s is an embedding model: call POST /api/v1/embeddings", p.model.ID), map[string]any{"model": p.model.ID})
		}
	}
	// The provider object and the account's data requirement: a request no
	// upstream may serve is refused here, before any limit or credit.
	if err := k.applyRouting(); err != nil {
		return err
	}
	// What the upstreams' providers cannot take (Gemini's 8 candidates)
	// is refused here too, before any limit or credit.
	if err := k.applyProviderLimits(); err != nil {
		return err
	}
	// 3. rate limits
	k.est = k.estimateChain()
	if err := k.admit(); err != nil {
		return err
	}
	// A request that could not be billed must not reach an upstream.
	if s.storeDown(k.start) {
		return apiErr(http.StatusServiceUnavailable, "store_unavailable", "the event store is unavailable, so requests cannot be billed; try again shortly", nil)
	}
	// 4. credit hold
	if err := k.hold(); err != nil {
		return err
	}
	if s.afterHold != nil {
		s.afterHold()
	}
	// 6–9. upstream, relay, cost, event, settle
	if req.Stream {
		return k.stream()
	}
	return k.unary()
}

// readBody reads a request's body within limit bytes. A body that stops
// coming for idle is a 408: the server bounds only the headers' time, and a
// deadline on the whole request would cut long streams.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, idle time.Duration) ([]byte, error) {
	// Built only when needed: formatting it cost every request an allocation.
	tooLarge := func() error {
		return apiErr(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body is larger than %d bytes", limit), nil)
	}
	// No endpoint decodes a compressed body; read as it came it would fail
	// as text that is not UTF-8, which tells the client nothing.
	// Every line of the header counts: "identity" on the first would hide
	// a "gzip" on the second.
	for _, enc := range r.Header.Values("Content-Encoding") {
		if enc == "" || strings.EqualFold(enc, "identity") {
			continue
		}
		if enc = plain(enc); len(enc) > 40 {
			enc = strings.ToValidUTF8(enc[:40], "")
		}
		return nil, apiErr(http.StatusUnsupportedMediaType, "unsupported_content_encoding",
			fmt.Sprintf("a request body with Content-Encoding %s is not accepted; send it uncompressed", enc), nil)
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	// Sized from Content-Length when given (up to 1 MiB, so that a declared
	// length alone reserves little): few copies for a large body.
	size := int64(512)
	if r.ContentLength > 0 {
		size = min(r.ContentLength+1, 1<<20)
	}
	b := make([]byte, 0, size)
	// The nesting is followed as the body arrives: a body nested too deep
	// is refused at its 65th level, the rest unread.
	var depth chat.DepthScanner
	rc := http.NewResponseController(w)
	read := rolling{span: idle}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		if at, ok := read.next(); ok {
			_ = rc.SetReadDeadline(at) // a test's recorder has none
		}
		n, err := r.Body.Read(b[len(b):min(int64(cap(b)), limit+1)])
		if derr := depth.Write(b[len(b) : len(b)+n]); derr != nil {
			ve := derr.(*chat.ValidationError)
			return nil, apiErr(http.StatusBadRequest, "invalid_request", ve.Error(), nil)
		}
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, tooLarge()
		}
		if err == io.EOF {
			// net/http takes the deadline off itself as the body ends,
			// when its own read of the connection (which tells a client
			// gone while the answer is written) starts.
			return b, nil
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, apiErr(http.StatusRequestTimeout, "request_timeout",
				fmt.Sprintf("the request body stopped coming: nothing of it for %s; send it whole", idle), nil)
		}
		if err != nil {
			return nil, apiErr(http.StatusBadRequest, "invalid_request", "could not read the request body", nil)
		}
	}
}

// clip keeps at most n bytes of s, cut between characters: half a
// character would be shown as U+FFFD wherever s is read back.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// bearer extracts the API key from the Authorization header: a 401 when
// there is none, or more than one (which key to bill would be a guess, and
// a proxy that adds its own header would have its key used for the
// client's request, or the client's for its own).
func bearer(r *http.Request) (string, error) {
	hs := r.Header.Values("Authorization")
	if len(hs) > 1 {
		return "", apiErr(http.StatusUnauthorized, "two_keys",
			fmt.Sprintf("%d API keys were sent (Authorization or x-api-key headers): send one, as one Authorization header", len(hs)), nil)
	}
	if len(hs) == 1 && len(hs[0]) > 7 && strings.EqualFold(hs[0][:7], "bearer ") {
		if secret := strings.TrimSpace(hs[0][7:]); secret != "" {
			return secret, nil
		}
	}
	return "", apiErr(http.StatusUnauthorized, "no_key", "missing API key: send Authorization: Bearer sk-rf-…", nil)
}

func (k *call) authenticate() error {
	secret, err := bearer(k.c.Request())
	if err != nil {
		return err
	}
	k.keyHash = commands.HashKey(secret)
	key, ok := k.s.deps.Directory.Key(k.keyHash)
	if !ok {
		return apiErr(http.StatusUnauthorized, "bad_key", "invalid API key", nil)
	}
	k.key = key
	if err := stoppedKey(key); err != nil {
		return err
	}
	switch {
	case key.Expired(k.start):
		return expiredKey(key)
	case key.Management:
		return apiErr(http.StatusForbidden, "management_key", "this is a management key: it issues and revokes keys and cannot call models; use an inference key", nil)
	}
	acct, ok := k.s.deps.Directory.Admission(key.AccountID, key.ID, k.start)
	if !ok {
		return apiErr(http.StatusForbidden, "no_account", "the key's account is not open", nil)
	}
	k.acct = acct
	return nil
}

// keyFirst refuses a request without a valid key before its body is read,
// for the endpoints that translate their body before the chat pipeline
// (which checks the key again, from memory). Its refuse records a body
// they refuse themselves, as the pipeline records its own refusals.
func (s *Server) keyFirst(c echo.Context) (*refusals, *APIError) {
	k := &call{s: s, c: c, start: s.cfg.Now()}
	if err := k.authenticate(); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, apiErr(http.StatusUnauthorized, "invalid_key", err.Error(), nil)
	}
	return &refusals{k: k}, nil
}

// refusals records the refusal of a request whose key is known.
type refusals struct{ k *call }

// refuse records the request as failed (rejected, never billed) under an
// ID of its own, given to the client as X-Request-Id, and returns ae.
func (r *refusals) refuse(ae *APIError) *APIError {
	k := r.k
	k.id = newRequestID()
	k.c.Response().Header().Set("X-Request-Id", k.id)
	k.recordFailure(ae.Status, ae.Reason, failureOutcome(ae))
	return ae
}

// attribute records the app that sent the request: OpenRouter's SDKs send
// X-OpenRouter-Title, older clients X-Title, both HTTP-Referer. The title
// is recorded as it reads (domain.AppTitle), since other customers see it
// on /rankings.
func (k *call) attribute(r *http.Request) {
	k.referer = clip(plain(r.Header.Get("HTTP-Referer")), 200)
	title := r.Header.Get("X-OpenRouter-Title")
	if title == "" {
		title = r.Header.Get("X-Title")
	}
	k.title = domain.AppTitle(title, domain.MaxAppTitle)
}

// plain leaves out of a referer what would disguise it where it is shown:
// control characters (a header may carry tabs), bidirectional embeddings,
// overrides and isolates (U+202A–U+202E, U+2066–U+2069), as a key's name
// may not have, and bytes that are not UTF-8.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || domain.IsBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// priced is a model of the request's chain with its price.
type priced struct {
	model *catalog.Model
	price domain.ModelPrice
}

// resolveModels resolves the model and each fallback: each must exist, be
// allowed to the key, be priced and take the request's token counts, so
// that a fallback fails the request now rather than after its predecessor.
func (k *call) resolveModels() error {
	ids := append([]string{k.req.Model}, k.req.Fallbacks...)
	ver, prices, listed := k.s.deps.Directory.Prices(k.start)
	for i, id := range ids {
		param := "model"
		if i > 0 {
			param = "models"
		}
		m, ok := k.s.deps.Router.Catalog().Get(id)
		if !ok {
			var ae *APIError
			if m, ae = k.variant(id, param); ae != nil {
				return ae
			}
			ok = m != nil
		}
		if !ok {
			shown := commands.ShownModelID(id) // a longer one is no model's, and a client's whole body
			md := map[string]any{"model": shown, "param": param}
			if strings.HasSuffix(k.c.Request().URL.Path, "/messages") { // Anthropic's answer, a not_found_error
				return apiErr(http.StatusNotFound, "unknown_model", fmt.Sprintf("model %q does not exist; GET /api/v1/models lists them", shown), md)
			}
			// OpenRouter's answer, word for word where clients look for it.
			return apiErr(http.StatusBadRequest, "unknown_model", fmt.Sprintf("%s is not a valid model ID; GET /api/v1/models lists them", shown), md)
		}
		if !k.key.Allows(m.ID) {
			return apiErr(http.StatusForbidden, "model_not_allowed", fmt.Sprintf("this key may not use %s", m.ID), map[string]any{"model": m.ID, "param": param})
		}
		p, ok := prices[m.ID]
		if !listed || !ok {
			return apiErr(http.StatusNotFound, "unpriced_model", fmt.Sprintf("no price is published for %s yet", m.ID), map[string]any{"model": m.ID, "param": param})
		}
		if err := k.checkTokens(m); err != nil {
			return err
		}
		k.chain = append(k.chain, priced{m, p})
	}
	k.priceVer = ver
	k.use(k.chain[0])
	return nil
}

// modelVariants are OpenRouter's model variants RouteFree offers, with the
// provider.sort each stands for.
var modelVariants = map[string]string{"nitro": "throughput", "floor": "price"}

// variant resolves OpenRouter's "author/model:variant": the model, when the
// variant is one RouteFree offers (its sort then applies to the request
// unless provider.sort is sent); a 400 naming it when it is not (:free,
// :online… would be served without what they promise); nil, nil when the
// part before the colon is no model either.
func (k *call) variant(id, param string) (*catalog.Model, *APIError) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 {
		return nil, nil
	}
	m, ok := k.s.deps.Router.Catalog().Get(id[:i])
	if !ok {
		return nil, nil
	}
	v := id[i+1:]
	sort, offered := modelVariants[v]
	if !offered {
		return nil, apiErr(http.StatusBadRequest, "unsupported_variant",
			fmt.Sprintf("model variant :%s is not offered; %s is, and its variants :nitro and :floor", commands.ShownModelID(v), m.ID),
			map[string]any{"model": commands.ShownModelID(id), "param": param, "variant": commands.ShownModelID(v)})
	}
	if k.variantSort == "" {
		k.variantSort = sort
	}
	return m, nil
}

// use makes a model of the chain the one tried, and billed if it answers.
func (k *call) use(p priced) {
	k.model, k.price = p.model, p.price
	k.req.Model = p.model.ID // adapters name it in responses and chunks
	k.req.OutputCap = int(p.model.MaxOutput)
	k.req.UnaryTimeout = k.s.cfg.UnaryTimeout
}

// estimateChain sizes the request for admission: the most that any model of
// the chain could take, since any of them may be the one that answers.
func (k *call) estimateChain() estimate {
	var e estimate
	var most decimal.Decimal
	for i, p := range k.chain {
		pe := estimateRequest(k.req, p.model)
		if c := p.price.MaxCost(pe.inputUpper, pe.maxOut); i == 0 || c.GreaterThan(most) {
			most, e.inputUpper, e.maxOut = c, pe.inputUpper, pe.maxOut
			e.holdPrice, e.holdModel = p.price, p.model.ID
		}
		e.tpm = max(e.tpm, pe.tpm)
	}
	return e
}

// checkTokens refuses output allowances the model cannot give: above its
// output cap or its context. Sent on, they would be held and counted against
// the rate limit as asked (a 429 that SDKs retry) or fail upstream.
func (k *call) checkTokens(m *catalog.Model) error {
	check := func(param string, v *int) error {
		if v == nil {
			return nil
		}
		limit, what := m.OutputLimit(), "output limit"
		if m.ContextLength > 0 && (limit <= 0 || m.ContextLength < limit) {
			limit, what = m.ContextLength, "context length"
		}
		if limit > 0 && int64(*v) > limit {
			return apiErr(http.StatusBadRequest, "invalid_request",
				fmt.Sprintf("%s: %d tokens is more than %s's %s of %d tokens", param, *v, m.ID, what, limit),
				map[string]any{"param": param, "model": m.ID, "limit": limit})
		}
		return nil
	}
	if err := check("max_tokens", k.req.MaxTokens); err != nil {
		return err
	}
	if err := check("max_completion_tokens", k.req.MaxCompletionTokens); err != nil {
		return err
	}
	if rs := k.req.Reasoning; rs != nil {
		return check("reasoning.max_tokens", rs.MaxTokens)
	}
	return nil
}

func (k *call) admit() error {
	d, err := k.s.deps.Limiter.Admit(k.ctx(), k.key.ID, k.key.Limits, k.est.tpm, k.start)
	if err != nil {
		return apiErr(http.StatusServiceUnavailable, "limiter_unavailable", "rate limiter unavailable, try again", nil)
	}
	d.SetHeaders(k.c.Response().Header())
	if !d.Allowed {
		k.s.deps.Metrics.Rejections.WithLabelValues("429", d.Reason).Inc()
		if d.TooLarge {
			return apiErr(http.StatusTooManyRequests, "request_too_large",
				fmt.Sprintf("this request needs about %d tokens, more than the key's limit of %d tokens per minute; lower max_tokens or shorten the input", k.est.tpm, k.key.Limits.TPM),
				map[string]any{"limit": d.Reason, "tokens_per_minute": k.key.Limits.TPM, "estimated_tokens": k.est.tpm})
		}
		secs := admission.RetryAfterSeconds(d.RetryAfter)
		return apiErr(http.StatusTooManyRequests, "rate_limited_"+d.Reason,
			fmt.Sprintf("rate limit exceeded (%s) for this key; retry in %d s", strings.ToUpper(d.Reason), secs),
			map[string]any{"limit": d.Reason, "retry_after_seconds": secs})
	}
	k.admitted = true
	return nil
}

func (k *call) hold() error {
	amount := k.discounted(k.est.holdPrice.MaxCost(k.est.inputUpper, k.est.maxOut))
	if amount.GreaterThan(admission.MaxHold) {
		return k.priceOutOfRange(amount)
	}
	res, err := k.s.deps.Ledger.Hold(k.ctx(), k.key.AccountID, k.key.ID, k.id, k.acct.View, amount)
	if err != nil {
		// The hold may have been taken before its reply was lost (a Redis
		// timeout, a client gone mid-call): release it, harmless if not.
		if rerr := k.s.deps.Ledger.Release(context.WithoutCancel(k.ctx()), k.key.AccountID, k.key.ID, k.id); rerr != nil {
			k.s.cfg.Logger.Warn("release after a failed hold", "request_id", k.id, "err", rerr)
		}
		if errors.Is(err, admission.ErrLedgerRestoring) {
			// The time left, in whole seconds rounded up: a client that
			// honours it comes back as the window ends.
			wait := admission.RestoreWindow
			var re *admission.RestoringError
			if errors.As(err, &re) {
				wait = re.Wait
			}
			secs := max(int64((wait+time.Second-1)/time.Second), 1)
			return apiErr(http.StatusServiceUnavailable, "ledger_unavailable",
				fmt.Sprintf("credit check unavailable while the credit ledger is restored after a Redis restart; retry in %d s", secs),
				map[string]any{"retry_after_seconds": secs})
		}
		return apiErr(http.StatusServiceUnavailable, "ledger_unavailable", "credit check unavailable, try again", nil)
	}
	if !res.OK {
		cause := res.Cause
		// What is left is never less than nothing in words; the metadata
		// keeps the exact figure (a limit lowered below what was spent, a
		// balance overdrawn by a request that cost more than was left).
		left := decimal.Max(res.Available, decimal.Zero).StringFixed(4)
		msg := fmt.Sprintf("insufficient credits: this request may cost up to NT$%s but NT$%s is available; top up or lower max_tokens", amount.StringFixed(4), left)
		var resets time.Time
		var period string
		if cause == "key_spend_limit" {
			// Limits reset on Taipei days, weeks and months, not at UTC
			// midnight as OpenRouter's do: say when. One that never resets
			// is a total for the key's life.
			if period = k.key.SpendPeriod; period == "" {
				period = projections.PeriodMonthly
			}
			if period == projections.PeriodNever {
				msg = fmt.Sprintf("this key's spending limit, a total for the key's life that never resets, leaves NT$%s; the request may cost up to NT$%s",
					left, amount.StringFixed(4))
			} else {
				resets = projections.PeriodEnd(period, k.start)
				msg = fmt.Sprintf("this key's spending limit leaves NT$%s for this %s period; the request may cost up to NT$%s; the limit resets at %s Taipei time",
					left, period, amount.StringFixed(4), resets.In(projections.Taipei).Format("2006-01-02 15:04"))
			}
		} else if res.Held.IsPositive() && res.Balance.Add(k.acct.View.CreditLimit).GreaterThanOrEqual(amount) {
			cause = "in_flight_holds"
			msg = fmt.Sprintf("credits are held by requests in flight (NT$%s held); the request may cost up to NT$%s", res.Held.StringFixed(4), amount.StringFixed(4))
		}
		k.s.deps.Metrics.Rejections.WithLabelValues("402", cause).Inc()
		meta := map[string]any{
			"cause":        cause,
			"balance":      res.Balance.String(),
			"credit_limit": k.acct.View.CreditLimit.String(),
			"held":         res.Held.String(),
			"available":    res.Available.String(),
			"required":     amount.String(),
			"currency":     "TWD",
		}
		if cause == "key_spend_limit" {
			// The figures are the key's, which has no credit beyond its
			// limit: they add up as the account's do.
			meta["credit_limit"], meta["spend_limit"] = "0", k.key.SpendLimit.String()
			if period == projections.PeriodNever {
				meta["limit_reset"] = nil // as OpenRouter's key shows it; no resets_at
			} else {
				meta["limit_reset"], meta["resets_at"] = period, resets.UTC().Format(time.RFC3339)
			}
		}
		return apiErr(http.StatusPaymentRequired, "insufficient_credits", msg, meta)
	}
	k.holdAmount = amount
	k.held = true
	k.keepHold()
	k.s.deps.Metrics.ActiveHolds.Inc()
	return nil
}

// priceOutOfRange refuses a request whose hold no account could cover: a
// price list recorded before prices had a bound may price a model that
// high. The ledger would refuse the amount, and a retryable 503 would have
// clients retry forever; the price, not the moment, is at fault.
func (k *call) priceOutOfRange(amount decimal.Decimal) error {
	p, model := k.est.holdPrice, k.est.holdModel
	prices := fmt.Sprintf("NT$%s input and NT$%s output", p.Input, p.Output)
	meta := map[string]any{
		"cause":        "price_out_of_range",
		"model":        model,
		"input_price":  p.Input.String(),
		"output_price": p.Output.String(),
		"required":     amount.String(),
		"max_hold":     admission.MaxHold.String(),
		"currency":     "TWD",
	}
	if p.Reasoning.IsPositive() {
		prices = fmt.Sprintf("NT$%s input, NT$%s output and NT$%s reasoning", p.Input, p.Output, p.Reasoning)
		meta["reasoning_price"] = p.Reasoning.String()
	}
	k.s.deps.Metrics.Rejections.WithLabelValues("402", "price_out_of_range").Inc()
	return apiErr(http.StatusPaymentRequired, "price_out_of_range",
		fmt.Sprintf("%s is priced at %s per million tokens: this request may cost up to NT$%s, more than any account can hold (NT$%s); the model's price list needs correcting, and retrying will not help",
			model, prices, amount.StringFixed(4), admission.MaxHold.Floor()), meta)
}

// discounted applies the account's volume discount.
func (k *call) discounted(d decimal.Decimal) decimal.Decimal {
	if k.acct.VolumeDiscount.IsPositive() {
		return d.Mul(decimal.NewFromInt(1).Sub(k.acct.VolumeDiscount))
	}
	return d
}

// cost is the request's NTD cost at the list in force when it started.
// A request that produced no completion is free (a published rule).
func (k *call) cost(u domain.Usage) decimal.Decimal {
	if u.Output <= 0 {
		return decimal.Zero
	}
	return k.discounted(k.price.Cost(u))
}

// ctx is the request's context; a client that goes away cancels it.
func (k *call) ctx() context.Context { return k.c.Request().Context() }

// upstreamRequest is the request as it goes upstream: RouteFree's own options
// are already stripped by chat.Parse.
func (k *call) upstream(t *router.Target) providers.Upstream {
	return providers.Upstream{Provider: t.Provider, Kind: t.Kind, BaseURL: t.BaseURL, Model: t.Model, APIKey: t.APIKey, Params: t.Params}
}

// attempt tries the request's model and then each fallback of its models
// list, until one answers. As OpenRouter has it, any error of a model lets
// the next one answer: its upstreams failed or timed out, or one refused
// the input (a context too long for this model may fit the next). A client
// gone needs nothing more.
func (k *call) attempt(ctx context.Context) (*providers.Result, []byte, *APIError) {
	var tried []string
	// The chain's answer is a 429 only if every model's was; its
	// Retry-After is the soonest, when each model named one: the chain
	// serves again as soon as any of its models does.
	onlyLimited, soonest := true, int64(0)
	for i, p := range k.chain {
		k.use(p)
		res, first, ae := k.attemptModel(ctx)
		if ae == nil {
			if i > 0 {
				k.s.deps.Metrics.Failovers.WithLabelValues(k.chain[0].model.ID).Inc()
			}
			return res, first, nil
		}
		tried = append(tried, p.model.ID)
		switch ae.Reason {
		case "upstreams_failed", "upstreams_timed_out", "no_upstream_configured", reasonUpstreamsRateLimited,
			"upstream_rejected_request", "upstream_error", "upstream_refused_gateway", "input_flagged", "invalid_request":
		default:
			return nil, nil, ae
		}
		if ctx.Err() != nil {
			return nil, nil, ae
		}
		if ae.Reason != reasonUpstreamsRateLimited {
			onlyLimited = false
		}
		if secs, ok := ae.Metadata["retry_after_seconds"].(int64); ok && soonest >= 0 && (soonest == 0 || secs < soonest) {
			soonest = secs
		} else if !ok {
			soonest = -1
		}
		if i == len(k.chain)-1 {
			if (ae.Reason == reasonUpstreamsRateLimited || ae.Reason == "upstreams_failed") && i > 0 {
				if !onlyLimited && ae.Reason == reasonUpstreamsRateLimited {
					notOnlyRateLimited(ae)
				}
				setRetryAfter(ae, p.model.ID, max(soonest, 0))
			}
			if len(k.chain) > 1 {
				ae.Metadata["models_tried"] = tried
			}
			return nil, nil, ae
		}
	}
	return nil, nil, apiErr(http.StatusServiceUnavailable, "upstreams_failed", "no model to try", nil)
}

// attemptModel tries the model's upstreams in priority order until one answers.
// For a stream, an upstream has answered once its first chunk arrived, so a
// stream that fails before its first chunk also fails over. It never fails
// over once a byte of content has reached the client: callers call it before
// writing any.
func (k *call) attemptModel(ctx context.Context) (*providers.Result, []byte, *APIError) {
	targets, missing := k.s.deps.Router.Targets(k.model.ID)
	if len(targets) == 0 {
		return nil, nil, apiErr(http.StatusServiceUnavailable, "no_upstream_configured",
			fmt.Sprintf("no upstream is configured for %s: set %s", k.model.ID, strings.Join(missing, " or ")),
			map[string]any{"model": k.model.ID, "env": missing})
	}
	targets, excluded := k.routing.route(targets)
	if len(targets) == 0 {
		return nil, nil, k.noEligible(k.model, excluded)
	}
	// An upstream whose provider cannot take the request is skipped, not
	// tried: applyProviderLimits kept the model because another can.
	targets, refused, skipped := k.capable(targets)
	if len(targets) == 0 {
		return nil, nil, k.beyondProviders(k.model, refused, skipped)
	}
	var tried []map[string]any
	timeouts := 0 // attempts that ended by a timeout: all of them → 504
	var limits rateLimits
	// A half-open breaker's trial ends with the attempt, whatever its
	// outcome (a panic included): the next may go at once. One deferred
	// call for all of them: a defer in the loop would be allocated on every
	// request, trial or not.
	var trials []router.Permit
	defer endTrials(&trials)
	// A request an adapter cannot translate (a feature its provider lacks, a
	// reasoning budget that does not fit) is the client's to fix: the next
	// upstream may take it, and if none does the answer is a 400.
	var invalid *chat.ValidationError
	for i, t := range targets {
		now := k.s.cfg.Now()
		permit, ok := t.Breaker.Allow(now)
		if !ok {
			tried = append(tried, map[string]any{"provider": t.Provider, "error": "circuit open"})
			limits.cooling(t)
			continue
		}
		if permit.Trial() {
			trials = append(trials, permit)
		}
		ad, err := k.adapter(t.Kind)
		if err != nil {
			permit.End()
			continue
		}
		k.attempts++
		res, first, err := k.try(ctx, ad, t)
		if err == nil {
			t.Breaker.Success()
			t.Observe(k.ttfb)
			k.target = t
			if i > 0 {
				k.s.deps.Metrics.Failovers.WithLabelValues(k.model.ID).Inc()
			}
			return res, first, nil
		}
		if ctx.Err() != nil { // the client left, or the shutdown cut it: nothing to fail over for
			return nil, nil, cancelled(ctx)
		}
		var ve *chat.ValidationError
		if errors.As(err, &ve) {
			permit.End() // not sent: nothing learnt of the upstream
			if invalid == nil {
				invalid = ve
			}
			tried = append(tried, map[string]any{"provider": t.Provider, "error": "invalid_request"})
			continue
		}
		status, reason := upstreamFailure(err)
		if reason == "timeout" {
			timeouts++
		}
		k.s.deps.Metrics.UpstreamFails.WithLabelValues(t.Provider, reason).Inc()
		tried = append(tried, map[string]any{"provider": t.Provider, "status": status, "error": reason})
		if errors.Is(err, errAnswerTimeout) {
			t.Breaker.Failure(now)
			return nil, nil, apiErr(http.StatusGatewayTimeout, "upstream_timed_out",
				fmt.Sprintf("%s did not answer within %s; nothing is billed. A long answer comes as it is written with stream: true", t.Provider, k.s.cfg.UnaryTimeout),
				map[string]any{"provider": t.Provider, "provider_name": t.Provider, "model": k.model.ID, "attempts": tried})
		}
		if !retryable(err) {
			// No failover: the next upstream would answer the same.
			t.Breaker.Success()
			return nil, nil, k.upstreamRefusal(t.Provider, err, status, tried)
		}
		limits.failed(t, err, now)
	}
	if invalid != nil {
		md := map[string]any{"model": k.model.ID, "attempts": tried}
		if invalid.Param != "" {
			md["param"] = invalid.Param
		}
		return nil, nil, apiErr(http.StatusBadRequest, "invalid_request", invalid.Error(), md)
	}
	ae := apiErr(http.StatusServiceUnavailable, "upstreams_failed",
		fmt.Sprintf("every upstream for %s failed or is cooling down; try again shortly", k.model.ID),
		map[string]any{"model": k.model.ID, "attempts": tried})
	if len(tried) > 0 && timeouts == len(tried) {
		// Every upstream was too slow: a gateway timeout, recorded with
		// outcome "timeout" (failureOutcome), not as an upstream failure.
		ae.Status, ae.Reason, ae.Type = http.StatusGatewayTimeout, "upstreams_timed_out", errorType(http.StatusGatewayTimeout)
		ae.Message = fmt.Sprintf("every upstream for %s timed out before its first byte; try again shortly", k.model.ID)
	}
	// Rate limits alone (every upstream answered 429 or cools down after
	// 429s) are a 429; mixed with any other failure, a 503. Either says
	// when an upstream takes requests again, when that is known.
	if ae.Status == http.StatusServiceUnavailable {
		limits.answer(ae, k.model.ID, k.s.cfg.Now())
	}
	if len(tried) > 0 {
		lt := tried[len(tried)-1]
		ae.Metadata["provider"], ae.Metadata["upstream_status"] = lt["provider"], lt["status"]
		ae.Metadata["provider_name"] = lt["provider"]
	}
	if skipped != nil {
		ae.Metadata["skipped"] = skipped
	}
	return nil, nil, ae
}

// errFirstByteTimeout marks an upstream that sent no first chunk in time.
var errFirstByteTimeout = errors.New("upstream first-byte timeout")

// errAnswerTimeout marks an upstream whose unary answer did not come within
// the unary timeout. It is not failed over: the next upstream would answer
// after the client had gone, and be paid for the same answer again.
var errAnswerTimeout = errors.New("upstream answer timeout")

func retryable(err error) bool {
	return errors.Is(err, errFirstByteTimeout) || errors.Is(err, providers.ErrStreamCut) || providers.Retryable(err)
}

// try makes one upstream attempt under the first-byte timeout (a stream)
// or the unary timeout (an answer that comes whole). The upstream
// connection lives on in k.release for a stream that succeeded.
func (k *call) try(ctx context.Context, ad providers.Adapter, t *router.Target) (*providers.Result, []byte, error) {
	actx, cancel := context.WithCancel(ctx)
	timedOut := make(chan struct{})
	limit, timeout := k.s.cfg.FirstByteTimeout, errFirstByteTimeout
	if !k.req.Stream {
		limit, timeout = k.s.cfg.UnaryTimeout, errAnswerTimeout
	}
	timer := time.AfterFunc(limit, func() { close(timedOut); cancel() })
	sent := time.Now()
	res, err := ad.Send(actx, k.s.hc, k.upstream(t), k.req)
	var first []byte
	var ttfb time.Duration
	if err == nil && res.Stream != nil {
		res.Stream.SetIdentity(k.id, k.start.Unix())
		first, err = res.Stream.Next()
		ttfb = time.Since(sent)
		if err == io.EOF {
			first, err = nil, nil // an empty stream is still an answer
		}
		if err != nil {
			res.Stream.Close()
		}
		if err == nil && first != nil && opensOnly(first) && timer.Stop() {
			first, res.Stream, err = k.lookAhead(cancel, first, res.Stream)
		}
	}
	stopped := timer.Stop()
	if err != nil {
		err = withoutKey(err, t.APIKey)
		cancel()
		if !stopped && ctx.Err() == nil {
			select {
			case <-timedOut:
				return nil, nil, fmt.Errorf("%w after %s: %v", timeout, limit, err)
			default:
			}
		}
		return nil, nil, err
	}
	if ttfb == 0 {
		ttfb = time.Since(sent)
	}
	k.ttfb = ttfb // the upstream's first byte, not the wait for content after it
	k.cancelUpstream = cancel
	return res, first, nil
}

// withoutKey takes the key sent to an upstream out of its error's texts,
// which go on to the customer and the logs: a host may quote the key in an
// error it writes with a 200 (an error event in a stream, a body that is
// an error) as well as in a refusal (core.Post). Any other key-like token
// (a provider's masked fragment of a key) goes too.
func withoutKey(err error, key string) error {
	var ue *providers.UpstreamError
	if !errors.As(err, &ue) {
		return err
	}
	key = strings.TrimSpace(key)
	for _, s := range []*string{&ue.Message, &ue.Native, &ue.Code, &ue.Type, &ue.FlaggedInput} {
		if len(key) >= 8 {
			*s = strings.ReplaceAll(*s, key, "[redacted key]")
		}
		*s = providers.RedactKeys(*s)
	}
	return err
}

// upstreamFailure names an upstream error for metrics and metadata.
func upstreamFailure(err error) (status int, reason string) {
	var ue *providers.UpstreamError
	if errors.As(err, &ue) {
		return ue.Status, "http_" + strconv.Itoa(ue.Status)
	}
	if errors.Is(err, errFirstByteTimeout) || errors.Is(err, errAnswerTimeout) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout") {
		return 0, "timeout"
	}
	return 0, "connect"
}

// upstreamRefusal is the answer to an upstream's refusal that is not
// failed over. An upstream's 400 or 422 is about the client's input, so it
// is the client's 400 with the upstream's message (its 413 a 413), never a
// 5xx that SDKs retry; its 403 flagging the input (a moderator's) is the
// client's 403 (inputFlagged); other refusals are a 502. A refusal of the
// gateway's own key or account with the provider (RefusesGateway) says so
// and is logged at ERROR for the operator: the client's key was taken and
// nothing is billed, and the provider's words, which speak of "your API
// key", stay out of the message.
//
// The metadata names the provider and gives its message as OpenRouter's
// provider errors do (provider_name, raw), which the AI SDK's OpenRouter
// provider and apps built on OpenRouter read, beside RouteFree's own names.
func (k *call) upstreamRefusal(provider string, err error, status int, tried []map[string]any) *APIError {
	md := map[string]any{"provider": provider, "provider_name": provider, "upstream_status": status, "attempts": tried}
	var ue *providers.UpstreamError
	if errors.As(err, &ue) && ue.Message != "" {
		md["raw"] = providers.RedactKeys(ue.Raw())
	}
	if ue != nil && ue.Status == http.StatusForbidden && ue.Flagged() {
		return k.inputFlagged(provider, ue, md)
	}
	if ue != nil && ue.RefusesGateway() {
		k.s.cfg.Logger.Error("upstream refused the gateway's credentials, account or location", "request_id", k.id,
			"provider", provider, "status", ue.Status, "model", k.model.ID)
		if ue.Code != "" {
			md["upstream_code"] = providers.RedactKeys(ue.Code)
		}
		return apiErr(http.StatusBadGateway, "upstream_refused_gateway", fmt.Sprintf(
			"the provider %s refused the gateway's own credentials, account or location with it (status %d): not your API key, which was accepted; the request was not billed",
			provider, ue.Status), md)
	}
	if ue != nil && (ue.Status == http.StatusBadRequest || ue.Status == http.StatusUnprocessableEntity || ue.Status == http.StatusRequestEntityTooLarge) {
		// The message is the upstream's, or OpenAI's words for the same
		// refusal (a context overflow); raw and upstream_message keep
		// the upstream's own, upstream_code its code (OpenAI's
		// context_length_exceeded for an overflow from any provider).
		md["upstream_message"] = providers.RedactKeys(ue.Raw())
		if ue.Code != "" {
			md["upstream_code"] = ue.Code
		}
		if len(ue.Reasons) > 0 {
			md["reasons"] = ue.Reasons // a content filter's categories (Azure OpenAI's)
		}
		code := http.StatusBadRequest
		if ue.Status == http.StatusRequestEntityTooLarge {
			code = ue.Status
		}
		return apiErr(code, "upstream_rejected_request", fmt.Sprintf("%s rejected the request: %s", provider, providers.RedactKeys(ue.Message)), md)
	}
	return apiErr(http.StatusBadGateway, "upstream_error", upstreamMessage(err), md)
}

// inputFlagged answers an upstream's moderation flag (its 403 saying the
// input was flagged) as OpenRouter answers its own: a 403 whose metadata
// gives the reasons, the flagged text (the client's own words, at most
// maxFlaggedInput characters) and model_slug, which clients and the
// OpenRouter SDKs read. The operator's key is not at fault, so nothing is
// logged beyond the request's line, and the flagged text goes nowhere but
// to the client.
func (k *call) inputFlagged(provider string, ue *providers.UpstreamError, md map[string]any) *APIError {
	reasons := ue.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	md["reasons"], md["flagged_input"], md["model_slug"] = reasons, elideMiddle(ue.FlaggedInput, maxFlaggedInput), k.model.ID
	if ue.Code != "" {
		md["upstream_code"] = ue.Code
	}
	why := "flagged by its moderation"
	if len(reasons) > 0 {
		why = fmt.Sprintf("flagged for %q", strings.Join(reasons, ", "))
	}
	return apiErr(http.StatusForbidden, "input_flagged", fmt.Sprintf(
		"%s requires moderation on %s, and your input was %s: change the input or choose another model; the request was not billed",
		k.model.ID, provider, why), md)
}

// maxFlaggedInput is how much of the flagged text OpenRouter returns.
const maxFlaggedInput = 100

// elideMiddle shortens s to at most n characters as OpenRouter shortens a
// flagged input: its middle replaced with "...".
func elideMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	keep := n - 3
	return string(r[:keep-keep/2]) + "..." + string(r[len(r)-keep/2:])
}

func upstreamMessage(err error) string {
	var ue *providers.UpstreamError
	if errors.As(err, &ue) && ue.Message != "" {
		return "upstream error: " + providers.RedactKeys(ue.Message)
	}
	return "upstream error"
}

// unary serves a non-streaming request.
func (k *call) unary() error {
	// Every attempt has a context of its own, ended by try (a failed one)
	// or by cleanup (the one that answered).
	res, _, ae := k.attempt(k.ctx())
	if ae != nil {
		return ae
	}
	// What is billed: the upstream's usage (or, from an old
	// OpenAI-compatible host without any, our own count) and the first
	// choice's finish reason.
	rel, resp := res.Relay, res.Response
	var u domain.Usage
	finish := ""
	switch {
	case rel != nil:
		u, finish = domainUsage(&rel.Usage, false), rel.Finish
	case resp.Usage != nil:
		u = domainUsage(resp.Usage, false)
	}
	u = k.unaryUsage(u, rel != nil || resp.Usage != nil, func() string { return answerText(rel, resp) })
	if resp != nil && len(resp.Choices) > 0 {
		finish = resp.Choices[0].FinishReason
		if n := resp.Choices[0].NativeFinishReason; n != nil {
			k.noteNativeFinish(finish, *n)
		}
	}
	cost := k.cost(u)
	if err := k.complete(u, cost, domain.OutcomeCompleted, finish, false); err != nil {
		return err
	}
	cu := k.usageFor(u, cost)
	k.s.observe(k, http.StatusOK)
	if rel != nil {
		// Kept as the upstream's bytes (core.Relay): its choices as they
		// came, with the gateway's id, model and usage around them.
		b := rel.AppendJSON(make([]byte, 0, rel.ChoicesSize()+640), k.id, k.model.ID, k.provider(), k.start.Unix(), &cu)
		return k.c.JSONBlob(http.StatusOK, b)
	}
	resp.ID, resp.Model, resp.Provider, resp.Usage = k.id, k.model.ID, k.provider(), &cu
	if excludesReasoning(k.req) {
		for i := range resp.Choices {
			resp.Choices[i].Message.Reasoning, resp.Choices[i].Message.ReasoningDetails = nil, nil
		}
	}
	if resp.Object == "" {
		resp.Object = "chat.completion"
	}
	resp.Created = k.start.Unix() // as on every chunk of a stream
	// segmentio's encoder: the same output as encoding/json at a fraction
	// of the reflection cost (the largest CPU item of the handler itself).
	b, err := fastjson.Marshal(resp)
	if err != nil {
		return err
	}
	return k.c.JSONBlob(http.StatusOK, b)
}

// provider is the catalog's name of the provider that served, "" before
// one did.
func (k *call) provider() string {
	if k.target == nil {
		return ""
	}
	return k.target.Provider
}

// answerText is a whole answer's text, for counting: a relayed one's
// choices are decoded for it.
func answerText(rel *providers.Relay, resp *chat.Response) string {
	if rel != nil {
		resp = &chat.Response{}
		if fastjson.Unmarshal(rel.Choices, &resp.Choices) != nil {
			return string(rel.Choices)
		}
	}
	return responseText(resp)
}

func responseText(r *chat.Response) string {
	var b strings.Builder
	for _, ch := range r.Choices {
		b.WriteString(ch.Message.Content.String())
		for _, tc := range ch.Message.ToolCalls {
			b.WriteString(tc.Function.Name)
			b.WriteString(tc.Function.Arguments)
		}
	}
	return b.String()
}

// domainUsage converts an OpenAI usage object.
func domainUsage(u *chat.Usage, estimated bool) domain.Usage {
	if u == nil {
		return domain.Usage{Estimated: estimated}
	}
	if u.Unreadable {
		return domain.Usage{Estimated: estimated, Refused: domain.UsageUnreadable}
	}
	return domain.Usage{Input: int64(u.PromptTokens), Output: int64(u.CompletionTokens),
		Cached: int64(u.CachedTokens()), Reasoning: int64(u.ReasoningTokens()),
		CacheWrite: int64(u.CacheWriteTokens()), CacheWrite1h: int64(u.CacheWrite1hTokens()), Estimated: estimated}
}

// usageFor renders usage as OpenRouter does, with its NTD cost as a number
// and that cost split into its prompt and completion parts.
func (k *call) usageFor(u domain.Usage, cost decimal.Decimal) chat.Usage {
	cu := chat.NewUsage(int(u.Input), int(u.Output), int(u.Cached), int(u.Reasoning))
	cu.PromptTokensDetails.CacheWriteTokens = int(u.CacheWrite)
	cu.PromptTokensDetails.CacheWrite1hTokens = int(u.CacheWrite1h)
	c := chat.NewCost(cost)
	byok := false
	prompt := decimal.Zero
	if cost.IsPositive() {
		prompt = k.discounted(k.price.Cost(domain.Usage{Input: u.Input, Cached: u.Cached, CacheWrite: u.CacheWrite, CacheWrite1h: u.CacheWrite1h}))
	}
	cu.Cost, cu.IsBYOK = &c, &byok
	cu.CostDetails = &chat.CostDetails{UpstreamInferencePromptCost: chat.NewCost(prompt),
		UpstreamInferenceCompletionsCost: chat.NewCost(cost.Sub(prompt))}
	return cu
}

// noteNativeFinish keeps the provider's own finish reason when it is not
// the normalised one: an OpenAI-shaped upstream's is the same, and its
// event need not carry it twice.
func (k *call) noteNativeFinish(finish, native string) {
	if native != finish {
		k.nativeFinish = native
	}
}

// Request events append without an expected version: plain usage facts.
var eventAny = eventstore.Any()

// complete appends the request's event and waits until it is durable, then
// settles the hold and the token count. Only then may the client see the end
// of the response.
func (k *call) complete(u domain.Usage, cost decimal.Decimal, outcome, finish string, stream bool) error {
	ev := &domain.RequestCompleted{
		RequestID: k.id, KeyID: k.key.ID, AccountID: k.key.AccountID, Model: k.model.ID,
		Usage: u, Cost: cost, PriceList: k.priceVer, StartedAt: k.start.UTC(),
		LatencyMs: time.Since(k.start).Milliseconds(), TTFBMs: k.ttfb.Milliseconds(), Stream: stream,
		Outcome: outcome, FinishReason: finish, NativeFinishReason: k.nativeFinish, Attempts: k.attempts,
		AppReferer: k.referer, AppTitle: k.title,
	}
	if k.target != nil {
		ev.Provider, ev.Upstream, ev.Region = k.target.Provider, k.target.Model, k.target.Region
	}
	ev.Requirement = k.routing.requirement()
	data, err := commands.Event(domain.RequestEventID(domain.TypeRequestCompleted, k.id), k.s.cfg.Now(), ev)
	if err != nil {
		return err
	}
	// The append must finish even if the client has gone: the upstream's
	// work is billed, and the event is what the bill is made of.
	res, err := k.s.deps.Store.Append(context.WithoutCancel(k.ctx()), domain.UsageStream(k.key.AccountID), eventAny, data)
	k.done = true
	k.s.noteAppend(err)
	if err != nil {
		k.s.cfg.Logger.Error("usage event not recorded", "request_id", k.id, "err", err)
		return apiErr(http.StatusServiceUnavailable, "store_unavailable", "the request could not be recorded, so it is not billed; try again", nil)
	}
	k.s.noteAppended(res.Position)
	bg := context.WithoutCancel(k.ctx())
	if k.held {
		k.stopRenewal()
		if err := k.s.deps.Ledger.Settle(bg, k.key.AccountID, k.key.ID, k.id, cost, int64(res.NextExpectedVersion)); err != nil {
			k.s.cfg.Logger.Warn("settle failed", "request_id", k.id, "err", err)
		}
		k.held = false
		k.s.deps.Metrics.ActiveHolds.Dec()
	}
	if k.admitted {
		// The correction counts now, when the usage is known: at the start
		// of a stream longer than a minute it would fall in a past window.
		_ = k.s.deps.Limiter.Settle(bg, k.key.ID, k.key.Limits, k.est.tpm, u.Total(), k.s.cfg.Now())
		k.admitted = false
	}
	return nil
}

// fail answers with an error, records the failure and gives back what was
// taken. Rejections of unknown keys are not recorded (no account to bill).
func (k *call) fail(ae *APIError) error {
	if !k.done && k.key.ID != "" {
		k.recordFailure(ae.Status, ae.Reason, failureOutcome(ae))
	}
	k.s.observe(k, ae.Status)
	if k.c.Response().Committed {
		return nil
	}
	return writeAPIError(k.c, ae)
}

func failureOutcome(ae *APIError) string {
	switch ae.Reason {
	case reasonShutdown:
		return domain.OutcomeShutdown
	case reasonUpstreamsRateLimited:
		return domain.OutcomeUpstreamFailed // the upstreams', not the client's
	}
	switch ae.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests, http.StatusRequestEntityTooLarge:
		return domain.OutcomeRejected
	case 499:
		return domain.OutcomeClientDisconnected
	case http.StatusGatewayTimeout:
		return domain.OutcomeTimeout
	}
	return domain.OutcomeUpstreamFailed
}

// recordFailure appends a request.failed event without making the client
// wait: a failure bills nothing, so nothing depends on its durability.
func (k *call) recordFailure(status int, reason, outcome string) {
	k.done = true
	ev := &domain.RequestFailed{RequestID: k.id, KeyID: k.key.ID, AccountID: k.key.AccountID, Status: status,
		Reason: reason, Outcome: outcome, Attempts: k.attempts, StartedAt: k.start.UTC(),
		LatencyMs: time.Since(k.start).Milliseconds(), Stream: k.req != nil && k.req.Stream}
	if k.model != nil {
		ev.Model = k.model.ID
	}
	if k.target != nil {
		ev.Provider, ev.Region = k.target.Provider, k.target.Region
	}
	ev.Requirement = k.routing.requirement()
	data, err := commands.Event(domain.RequestEventID(domain.TypeRequestFailed, k.id), k.s.cfg.Now(), ev)
	if err != nil {
		return
	}
	k.s.background.Add(1)
	go func() {
		defer k.s.background.Done()
		res, err := k.s.deps.Store.Append(context.Background(), domain.UsageStream(k.key.AccountID), eventAny, data)
		k.s.noteAppend(err)
		if err != nil {
			k.s.cfg.Logger.Warn("failure event not recorded", "request_id", k.id, "err", err)
			return
		}
		k.s.noteAppended(res.Position)
	}()
}

// cleanup runs last, whatever happened: a hold still active is released, a
// rate-limit estimate still counted is given back, and a request that never
// got its event (a panic) is recorded as failed.
func (k *call) cleanup() {
	p := recover()
	if k.cancelUpstream != nil {
		k.cancelUpstream()
	}
	bg := context.Background()
	if k.held {
		k.stopRenewal()
		if err := k.s.deps.Ledger.Release(bg, k.key.AccountID, k.key.ID, k.id); err != nil {
			k.s.cfg.Logger.Warn("release failed", "request_id", k.id, "err", err)
		}
		k.held = false
		k.s.deps.Metrics.ActiveHolds.Dec()
	}
	if k.admitted {
		_ = k.s.deps.Limiter.Settle(bg, k.key.ID, k.key.Limits, k.est.tpm, 0, k.s.cfg.Now())
		k.admitted = false
	}
	if p != nil {
		if !k.done && k.key.ID != "" {
			k.recordFailure(http.StatusInternalServerError, "panic", domain.OutcomeUpstreamFailed)
		}
		panic(p)
	}
}

// endTrials ends the half-open trials a request's attempts were.
func endTrials(trials *[]router.Permit) {
	for _, p := range *trials {
		p.End()
	}
}
