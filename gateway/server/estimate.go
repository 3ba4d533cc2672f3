package server

import (
	"math"
	"strconv"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/tokens"
)

// attachmentTokens is the allowance for one image or file part: images bill
// at most about this many tokens at the providers' high detail.
const attachmentTokens = 2000

// estimate is what admission needs before the upstream answers.
type estimate struct {
	inputUpper int64 // never below the real input tokens of text (a token is ≥ 1 byte)
	maxOut     int64 // n × (max_tokens as sent upstream, or the model's cap when unset)
	tpm        int64 // tokens counted against TPM at admission: input guess + max_tokens if set
	// holdPrice is the price the hold is sized at: that of the model of the
	// request's chain whose maximum cost is the highest.
	holdPrice domain.ModelPrice
	holdModel string // the ID of that model
}

// estimateRequest sizes a request without tokenizing it: the hot path only
// counts bytes.
func estimateRequest(r *chat.Request, m *catalog.Model) estimate {
	var textBytes, attachments int64
	for i := range r.Messages {
		msg := &r.Messages[i]
		textBytes += 8 // role and framing
		if msg.Content.IsParts() {
			for _, p := range msg.Content.Parts {
				if p.Type == "text" {
					textBytes += int64(len(p.Text))
				} else {
					attachments++
				}
			}
		} else {
			textBytes += int64(len(msg.Content.Text))
		}
		for _, tc := range msg.ToolCalls {
			textBytes += int64(len(tc.Function.Name) + len(tc.Function.Arguments))
		}
	}
	for _, t := range r.Tools {
		textBytes += int64(len(t.Function.Name)+len(t.Function.Description)+len(t.Function.Parameters)) + 16
	}
	e := estimate{inputUpper: textBytes + attachments*attachmentTokens}
	e.maxOut = int64(r.MaxOutputTokens(int(m.MaxOutput)))
	if e.maxOut <= 0 {
		// Unset: the model's cap. A value above the cap is held as asked,
		// since that is what goes upstream.
		e.maxOut = m.MaxOutput
	}
	// Each of n choices may write up to the bound; the input is read once.
	e.maxOut *= int64(r.Choices())
	e.tpm = textBytes/4 + attachments*attachmentTokens
	if r.MaxCompletionTokens != nil || r.MaxTokens != nil {
		e.tpm += e.maxOut
	}
	return e
}

// requestText is the request's text, for counting when an upstream reports
// no usage. It lives only for the count.
func requestText(r *chat.Request) string {
	n := 0
	for i := range r.Messages {
		n += len(r.Messages[i].Content.String())
	}
	b := make([]byte, 0, n)
	for i := range r.Messages {
		b = append(b, r.Messages[i].Content.String()...)
	}
	return string(b)
}

// estimateUsage counts tokens offline for an upstream that reported none.
func (k *call) estimateUsage(output string) domain.Usage {
	in := int64(tokens.Count(requestText(k.req))) + 4*int64(len(k.req.Messages))
	for i := range k.req.Messages {
		if k.req.Messages[i].Content.IsParts() {
			for _, p := range k.req.Messages[i].Content.Parts {
				if p.Type != "text" {
					in += attachmentTokens
				}
			}
		}
	}
	return domain.Usage{Input: in, Output: int64(tokens.Count(output)), Estimated: true}
}

// usageBounds are the most input and output tokens the request can have
// used at the model that answers: no more input than both the request's
// byte bound and the model's context hold (a tool or template overhead
// fits the context), no more output than max_tokens for each of its n
// choices, or the model's own limit when the request set none. A limit
// the catalog does not give bounds nothing (a catalog may leave a model's
// context length out).
func (k *call) usageBounds() (maxIn, maxOut int64) {
	maxIn = max(k.est.inputUpper, k.model.ContextLength)
	if k.model.ContextLength <= 0 {
		maxIn = math.MaxInt64
	}
	perChoice := int64(k.req.MaxOutputTokens(0))
	if perChoice <= 0 {
		perChoice = max(k.model.MaxOutput, k.model.OutputLimit())
	}
	if perChoice <= 0 {
		return maxIn, math.MaxInt64
	}
	return maxIn, perChoice * int64(k.req.Choices())
}

// withinBounds caps the gateway's own count at what the request allowed:
// an upstream that wrote past max_tokens is not billed beyond it.
func withinBounds(u domain.Usage, maxIn, maxOut int64) domain.Usage {
	u.Input, u.Output = min(u.Input, maxIn), min(u.Output, maxOut)
	u.Cached, u.Reasoning = min(u.Cached, u.Input), min(u.Reasoning, u.Output)
	return u
}

// unaryUsage is what a whole answer is billed for: the upstream's report
// when it is possible, else (none, or one that is impossible) the
// gateway's own count of the answer's text, with the reason recorded.
func (k *call) unaryUsage(u domain.Usage, reported bool, text func() string) domain.Usage {
	maxIn, maxOut := k.usageBounds()
	why := ""
	if reported {
		if why = u.Impossible(maxIn, maxOut); why == "" {
			return u
		}
		k.refusedUsage(why)
	}
	u = k.estimateUsage(text())
	u.Refused = why
	return withinBounds(u, maxIn, maxOut)
}

// refusedUsage logs an upstream's impossible usage report: its reason,
// never its content.
func (k *call) refusedUsage(why string) {
	k.s.cfg.Logger.Warn("upstream usage refused", "request_id", k.id, "provider", k.provider(), "reason", why)
}

// observe records metrics and one access-log line. Never content, never keys.
func (s *Server) observe(k *call, status int) {
	provider := ""
	if k.target != nil {
		provider = k.target.Provider
	}
	model := ""
	if k.model != nil {
		model = k.model.ID
	}
	stream := "false"
	if k.req != nil && k.req.Stream {
		stream = "true"
	}
	el := time.Since(k.start)
	s.deps.Metrics.Requests.WithLabelValues(model, provider, statusLabel(status)).Inc()
	s.deps.Metrics.Latency.WithLabelValues(model, stream).Observe(el.Seconds())
	if k.ttfb > 0 {
		s.deps.Metrics.TTFB.WithLabelValues(model).Observe(k.ttfb.Seconds())
	}
	if s.cfg.Logger.Enabled(k.ctx(), levelFor(status)) {
		s.cfg.Logger.Log(k.ctx(), levelFor(status), "request",
			"request_id", k.id, "status", status, "model", model, "provider", provider,
			"stream", stream, "attempts", k.attempts, "latency_ms", el.Milliseconds(), "key_id", k.key.ID)
	}
}

func statusLabel(s int) string {
	switch s {
	case 200:
		return "200"
	case 400:
		return "400"
	case 401:
		return "401"
	case 402:
		return "402"
	case 403:
		return "403"
	case 404:
		return "404"
	case 429:
		return "429"
	case 502:
		return "502"
	case 503:
		return "503"
	}
	return strconv.Itoa(s)
}
