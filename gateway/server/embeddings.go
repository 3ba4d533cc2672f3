package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers"
	"github.com/routefree/routefree/gateway/router"
	"github.com/routefree/routefree/gateway/tokens"
)

// POST /api/v1/embeddings in OpenAI's shape, routed to OpenAI-shaped and
// Gemini embedding upstreams. It runs the chat pipeline's steps (key, model,
// rate limit, credit hold, failover, durable usage event before the answer)
// and bills every input token at the model's input price.

// maxEmbedInputs is OpenAI's limit on inputs per request.
const maxEmbedInputs = 2048

// maxEmbedDimensions bounds dimensions for a model whose catalog entry
// gives no max_dimensions: twice the longest vector of any embedding model
// we know of (4,096), so that no absurd value reaches an upstream.
const maxEmbedDimensions = 8192

// checkDimensions refuses a dimensions the model cannot give: the catalog's
// max_dimensions when it has one, else maxEmbedDimensions.
func checkDimensions(dims *int, m *catalog.Model) *APIError {
	limit := maxEmbedDimensions
	if m.MaxDimensions > 0 {
		limit = m.MaxDimensions
	}
	if dims == nil || (*dims >= 1 && *dims <= limit) {
		return nil
	}
	return apiErr(http.StatusBadRequest, "invalid_request",
		fmt.Sprintf("dimensions must be an integer from 1 to %d for %s", limit, m.ID),
		map[string]any{"param": "dimensions", "max_dimensions": limit})
}

type embedRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
	Provider       json.RawMessage `json:"provider"` // OpenRouter's provider object, as for chat
}

// parseEmbedInput reads input: a string, an array of strings, a token array
// or an array of token arrays.
func parseEmbedInput(raw json.RawMessage) (*providers.EmbedRequest, error) {
	raw = bytes.TrimSpace(raw)
	// Each form decodes into its own variable: a failed decode may leave
	// a partial value behind.
	var r providers.EmbedRequest
	var one string
	var texts []string
	var flat []int
	var arrays [][]int
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, errors.New("input is required")
	case json.Unmarshal(raw, &one) == nil:
		r.Texts = []string{one}
	case json.Unmarshal(raw, &texts) == nil:
		r.Texts = texts
	case json.Unmarshal(raw, &flat) == nil:
		r.Tokens = [][]int{flat}
	case json.Unmarshal(raw, &arrays) == nil:
		r.Tokens = arrays
	default:
		return nil, errors.New("input must be a string, an array of strings, an array of token IDs or an array of token ID arrays")
	}
	n := len(r.Texts) + len(r.Tokens)
	if n == 0 {
		return nil, errors.New("input must not be empty")
	}
	if n > maxEmbedInputs {
		return nil, fmt.Errorf("input has %d items; at most %d are allowed", n, maxEmbedInputs)
	}
	for i, t := range r.Texts {
		if t == "" {
			return nil, fmt.Errorf("input[%d] is empty", i)
		}
	}
	for i, t := range r.Tokens {
		if len(t) == 0 {
			return nil, fmt.Errorf("input[%d] is an empty token array", i)
		}
		if err := checkTokenIDs(i, t); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// maxTokenID is the largest token ID taken: tokenizers number their tokens
// from 0 in 32 bits, and upstreams refuse the rest only after the hold.
const maxTokenID = math.MaxInt32

// badInputError is an input that cannot be embedded, by its index in the
// answer's data.
type badInputError struct {
	index int
	msg   string
}

func (e *badInputError) Error() string { return e.msg }

// checkTokenIDs refuses input i's token array when an ID is negative or
// past maxTokenID.
func checkTokenIDs(i int, ids []int) error {
	for j, id := range ids {
		if id < 0 || id > maxTokenID {
			return &badInputError{index: i, msg: fmt.Sprintf(
				"input[%d]: token ID %d at position %d is invalid; token IDs are whole numbers from 0 to %d", i, id, j, maxTokenID)}
		}
	}
	return nil
}

func (s *Server) embeddings(c echo.Context) error { return s.serveCall(c, (*call).embed) }

func (k *call) embed() error {
	s := k.s
	r := k.c.Request()
	// The key before a byte of the body, as for chat.
	if err := k.authenticate(); err != nil {
		return err
	}
	body, err := readBody(k.c.Response(), r, s.cfg.MaxBodyBytes, s.cfg.BodyReadTimeout)
	if err != nil {
		return err
	}
	if ae := checkBody(body); ae != nil {
		return ae
	}
	var er embedRequest
	if err := json.Unmarshal(body, &er); err != nil {
		return badJSON(err)
	}
	if er.Model == "" {
		return apiErr(http.StatusBadRequest, "invalid_request", "model is required", map[string]any{"param": "model"})
	}
	in, err := parseEmbedInput(er.Input)
	if err != nil {
		meta := map[string]any{"param": "input"}
		var bad *badInputError
		if errors.As(err, &bad) {
			meta["index"] = bad.index
		}
		return apiErr(http.StatusBadRequest, "invalid_request", err.Error(), meta)
	}
	switch er.EncodingFormat {
	case "", "float", "base64":
	default:
		return apiErr(http.StatusBadRequest, "invalid_request", `encoding_format must be "float" or "base64"`, map[string]any{"param": "encoding_format"})
	}
	if er.Dimensions != nil {
		in.Dimensions = *er.Dimensions
	}
	in.User = er.User
	// The chat fields the shared steps read: the model, and no stream.
	k.req = &chat.Request{Model: er.Model}
	if len(er.Provider) > 0 {
		k.req.Options = map[string]chat.RawJSON{"provider": er.Provider}
	}
	k.attribute(r)

	if err := k.resolveModels(); err != nil {
		return err
	}
	if !slices.Contains(k.model.OutputModalities, "embeddings") {
		return apiErr(http.StatusBadRequest, "not_an_embedding_model",
			fmt.Sprintf("%s is not an embedding model; GET /api/v1/embeddings/models lists them", k.model.ID),
			map[string]any{"model": k.model.ID})
	}
	if ae := checkDimensions(er.Dimensions, k.model); ae != nil {
		return ae
	}
	// The provider object and the account's data requirement, as for chat.
	if err := k.applyRouting(); err != nil {
		return err
	}
	// A token is at least a byte of text: the byte count bounds the hold.
	var size int64
	for _, t := range in.Texts {
		size += int64(len(t))
	}
	for _, t := range in.Tokens {
		size += int64(len(t))
	}
	k.est = estimate{inputUpper: size, tpm: size/4 + 1, holdPrice: k.price, holdModel: k.model.ID}
	if err := k.admit(); err != nil {
		return err
	}
	if s.storeDown(k.start) {
		return apiErr(http.StatusServiceUnavailable, "store_unavailable", "the event store is unavailable, so requests cannot be billed; try again shortly", nil)
	}
	if err := k.hold(); err != nil {
		return err
	}
	res, ae := k.embedAttempt(in)
	if ae != nil {
		return ae
	}
	u := domain.Usage{Input: int64(res.PromptTokens)}
	if res.UnreadableUsage {
		u = domain.Usage{Refused: domain.UsageUnreadable}
	}
	// More input than the texts and the model's context hold is refused,
	// as for chat (Usage.Impossible).
	why := u.Impossible(max(size, k.model.ContextLength), 0)
	if why != "" {
		k.refusedUsage(why)
	}
	if u.Input <= 0 || why != "" {
		// Gemini reports no usage: count the input ourselves.
		u = domain.Usage{Refused: why}
		for _, t := range in.Texts {
			u.Input += int64(tokens.Count(t))
		}
		for _, t := range in.Tokens {
			u.Input += int64(len(t))
		}
		u.Estimated = true
	}
	// Embeddings produce no completion, yet every input token is billed
	// (k.cost would call a request without output free).
	cost := k.discounted(k.price.Cost(u))
	if err := k.complete(u, cost, domain.OutcomeCompleted, "", false); err != nil {
		return err
	}
	out, err := renderEmbeddings(k.id, res.Vectors, er.EncodingFormat == "base64", k.model.ID, u.Input, cost.String())
	if err != nil {
		return err
	}
	k.s.observe(k, http.StatusOK)
	return k.c.JSONBlob(http.StatusOK, out)
}

// embedAttempt tries the model's upstreams in order, as attempt does for
// chat: connect errors, timeouts, 429 and 5xx fail over; an upstream's
// 4xx about the input is the client's to fix.
func (k *call) embedAttempt(in *providers.EmbedRequest) (*providers.Embeddings, *APIError) {
	targets, missing := k.s.deps.Router.Targets(k.model.ID)
	if len(targets) == 0 {
		return nil, apiErr(http.StatusServiceUnavailable, "no_upstream_configured",
			fmt.Sprintf("no upstream is configured for %s: set %s", k.model.ID, strings.Join(missing, " or ")),
			map[string]any{"model": k.model.ID, "env": missing})
	}
	targets, excluded := k.routing.route(targets)
	if len(targets) == 0 {
		return nil, k.noEligible(k.model, excluded)
	}
	var tried []map[string]any
	var limits rateLimits
	var trials []router.Permit // each ends with its attempt
	defer endTrials(&trials)
	for _, t := range targets {
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
		k.attempts++
		ctx, cancel := context.WithTimeout(k.ctx(), k.s.cfg.FirstByteTimeout)
		res, err := providers.Embed(ctx, k.s.hc, k.upstream(t), in)
		cancel()
		if err == nil {
			t.Breaker.Success()
			k.target = t
			return res, nil
		}
		if k.ctx().Err() != nil {
			return nil, cancelled(k.ctx())
		}
		status, reason := upstreamFailure(err)
		k.s.deps.Metrics.UpstreamFails.WithLabelValues(t.Provider, reason).Inc()
		tried = append(tried, map[string]any{"provider": t.Provider, "status": status, "error": reason})
		if !retryable(err) {
			t.Breaker.Success()
			return nil, k.upstreamRefusal(t.Provider, err, status, tried)
		}
		limits.failed(t, err, now)
	}
	ae := apiErr(http.StatusServiceUnavailable, "upstreams_failed",
		fmt.Sprintf("every upstream for %s failed or is cooling down; try again shortly", k.model.ID),
		map[string]any{"model": k.model.ID, "attempts": tried})
	limits.answer(ae, k.model.ID, k.s.cfg.Now())
	if len(tried) > 0 {
		lt := tried[len(tried)-1]
		ae.Metadata["provider"], ae.Metadata["provider_name"] = lt["provider"], lt["provider"]
	}
	return nil, ae
}

// renderEmbeddings writes OpenAI's embeddings list. base64 vectors are
// little-endian float32, as OpenAI encodes them; cost is the NTD charge as
// a JSON number.
func renderEmbeddings(id string, vectors [][]float64, b64 bool, model string, promptTokens int64, cost string) ([]byte, error) {
	per := 16
	if len(vectors) > 0 {
		per *= max(1, len(vectors[0]))
	}
	b := make([]byte, 0, 64+len(vectors)*per)
	// The request's ID, as OpenRouter's answer has it: the key to
	// GET /generation.
	b = append(b, `{"id":`...)
	b = chat.AppendString(b, id)
	b = append(b, `,"object":"list","data":[`...)
	for i, v := range vectors {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"embedding":`...)
		if b64 {
			raw := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(float32(f)))
			}
			b = chat.AppendString(b, base64.StdEncoding.EncodeToString(raw))
		} else {
			b = append(b, '[')
			for j, f := range v {
				if j > 0 {
					b = append(b, ',')
				}
				if math.IsNaN(f) || math.IsInf(f, 0) {
					return nil, errors.New("the upstream returned a non-finite embedding value")
				}
				b = strconv.AppendFloat(b, f, 'g', -1, 64)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = chat.AppendString(b, model)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, promptTokens, 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, promptTokens, 10)
	b = append(b, `,"cost":`...)
	b = append(b, cost...)
	return append(b, `}}`...), nil
}
