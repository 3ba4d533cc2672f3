package anthropic

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// Native relays a request that arrived in Anthropic's own Messages format
// to an Anthropic upstream as the client wrote it: thinking blocks and
// their signatures, cache_control, top_k and beta fields all reach the
// model untranslated. Only the model is replaced by the upstream's name.
//
// It answers the gateway in the usual contract (an OpenAI-shaped response
// for billing; a stream whose chunks are the upstream's own events), and
// hands the upstream's own non-streamed answer to Answer so the Messages
// face can relay it.
type Native struct {
	Body   map[string]json.RawMessage // the client's request body, by field
	Header http.Header                // anthropic-version and anthropic-beta as the client sent them
	Answer func(raw []byte)           // receives a non-streamed answer as the upstream sent it
}

// Send calls /v1/messages with the client's body.
func (n *Native) Send(ctx context.Context, hc *http.Client, up core.Upstream, req *chat.Request) (*core.Result, error) {
	fields := make(map[string]json.RawMessage, len(n.Body)+1)
	for k, v := range n.Body {
		fields[k] = v
	}
	fields["model"], _ = json.Marshal(up.Model)
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	header := http.Header{"X-Api-Key": {up.APIKey}, "Anthropic-Version": {Version}}
	if v := n.Header.Get("Anthropic-Version"); v != "" {
		header.Set("Anthropic-Version", v)
	}
	if v := n.Header.Values("Anthropic-Beta"); len(v) > 0 {
		header["Anthropic-Beta"] = v
	}
	url := strings.TrimSuffix(strings.TrimSuffix(up.BaseURL, "/"), "/v1") + "/v1/messages"
	resp, err := core.Post(ctx, hc, up.Provider, url, body, req.Stream, header)
	if err != nil {
		return nil, err
	}
	if req.Stream {
		return &core.Result{Stream: &nativeStream{Body: core.NewBody(up.Provider, resp.Body), model: req.Model}}, nil
	}
	b, err := core.ReadBody(up.Provider, resp)
	if err != nil {
		return nil, err
	}
	if ae := core.AnswerError(up.Provider, b); ae != nil {
		return nil, ae // an error sent with a 200
	}
	r, err := decodeResponse(b, req.Model, "", nil)
	if err != nil {
		return nil, core.BadResponse(up.Provider, err)
	}
	if n.Answer != nil {
		n.Answer(b)
	}
	return &core.Result{Response: r}, nil
}

// nativeStream yields the upstream's events unchanged, except message_start
// (which takes the gateway's id and the model asked for) and message_stop,
// which is held back: the gateway writes the end of the message only after
// the request is billed.
type nativeStream struct {
	core.Body
	id, model string
	usage     usage
	reported  bool // a message_delta's usage came, and no content after it (see stream)
	done      bool
	finish    string
	native    string // Anthropic's own stop_reason
}

// SetIdentity takes the id; Anthropic's events carry no "created".
func (s *nativeStream) SetIdentity(id string, _ int64) { s.id = id }

func (s *nativeStream) Usage() (chat.Usage, bool) { return s.usage.openAI(), s.done || s.reported }

func (s *nativeStream) FinishReason() string { return s.finish }

// NativeFinishReason is Anthropic's own stop_reason.
func (s *nativeStream) NativeFinishReason() string { return s.native }

func (s *nativeStream) Next() ([]byte, error) {
	if s.Err != nil {
		return nil, s.Err
	}
	data, err := s.Event()
	if err != nil {
		s.Err = core.Cut(s.Provider, err)
		return nil, s.Err
	}
	var e event
	if err := fastjson.Unmarshal(data, &e); err != nil {
		s.Err = core.BadResponse(s.Provider, err)
		return nil, s.Err
	}
	switch e.Type {
	case "message_start":
		if e.Message != nil {
			s.usage = e.Message.Usage
		}
		return s.rewriteStart(data)
	case "content_block_start", "content_block_delta":
		s.reported = false
	case "message_delta":
		if e.Usage != nil {
			s.usage.takeDelta(e.Usage)
			s.reported = true
		}
		if e.Delta != nil && e.Delta.StopReason != "" {
			s.finish, s.native = finishReason(e.Delta.StopReason, ""), e.Delta.StopReason
		}
	case "message_stop":
		s.done = true
		s.Err = io.EOF
		return nil, io.EOF
	case "error":
		s.Err = core.StreamError(s.Provider, errorStatus(data), data)
		return nil, s.Err
	}
	return data, nil
}

// rewriteStart puts the gateway's message id and model in message_start.
func (s *nativeStream) rewriteStart(data []byte) ([]byte, error) {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(data, &ev); err != nil {
		return data, nil
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(ev["message"], &msg); err != nil {
		return data, nil
	}
	if s.id != "" {
		msg["id"], _ = json.Marshal("msg_" + strings.TrimPrefix(s.id, "gen-"))
	}
	msg["model"], _ = json.Marshal(s.model)
	ev["message"], _ = json.Marshal(msg)
	return json.Marshal(ev)
}
