package server

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/providers"
)

// opensOnly reports whether a stream chunk only opens the answer: each
// choice's delta carries the role and nothing else with a value, and no
// choice has finished. Upstreams send such a chunk before the model has
// written anything (Anthropic's message_start, OpenAI's role chunk), and
// some then report an error (Anthropic while overloaded).
func opensOnly(chunk []byte) bool {
	var c struct {
		Choices []struct {
			Delta        map[string]fastjson.RawMessage `json:"delta"`
			FinishReason *string                        `json:"finish_reason"`
		} `json:"choices"`
	}
	if fastjson.Unmarshal(chunk, &c) != nil || len(c.Choices) == 0 {
		return false
	}
	for _, ch := range c.Choices {
		if ch.FinishReason != nil {
			return false
		}
		for k, v := range ch.Delta {
			if k != "role" && string(v) != `""` && string(v) != "null" && string(v) != "[]" {
				return false
			}
		}
	}
	return true
}

// lookAhead reads on after a stream's opening chunk until the first chunk
// with something in it, so that an upstream error before any content is
// an error of the attempt (the next upstream serves, or the client gets an
// error status) rather than the end of a stream already sent. The upstream
// has answered, so the wait is bounded by the stream idle timeout rather
// than the first-byte one; keep-alives go on meanwhile. It returns the
// stream to relay, which gives the chunk it read after the opening one.
func (k *call) lookAhead(cancel context.CancelFunc, opening []byte, st providers.ChunkStream) ([]byte, providers.ChunkStream, error) {
	var silent atomic.Bool
	idle := time.AfterFunc(k.s.cfg.StreamIdleTimeout, func() { silent.Store(true); cancel() })
	defer idle.Stop()
	opening = append([]byte(nil), opening...) // Next reuses its buffer
	next, err := st.Next()
	if err == io.EOF {
		return opening, st, nil // it ends there: the relay sees the end too
	}
	if err != nil {
		st.Close()
		if silent.Load() {
			// Nothing came after the opening: as slow as no first byte.
			return nil, nil, fmt.Errorf("%w: no content %s after the stream opened: %v", errFirstByteTimeout, k.s.cfg.StreamIdleTimeout, err)
		}
		return nil, nil, err
	}
	return opening, &heldStream{ChunkStream: st, held: append([]byte(nil), next...)}, nil
}

// heldStream gives a chunk already read before the rest of its stream.
type heldStream struct {
	providers.ChunkStream
	held []byte
}

func (h *heldStream) Next() ([]byte, error) {
	if c := h.held; c != nil {
		h.held = nil
		return c, nil
	}
	return h.ChunkStream.Next()
}

func (h *heldStream) Pending() bool { return h.held != nil || h.ChunkStream.Pending() }
