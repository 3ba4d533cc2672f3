package server

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/routefree/routefree/gateway/providers"
	"github.com/routefree/routefree/internal/jsonscan"
)

// opensOnly reports whether a stream chunk only opens the answer: each
// choice's delta carries the role and nothing else with a value, and no
// choice has finished. Upstreams send such a chunk before the model has
// written anything (Anthropic's message_start, OpenAI's role chunk), and
// some then report an error (Anthropic while overloaded).
func opensOnly(chunk []byte) bool {
	// Scanned rather than decoded: every stream's first chunk comes here.
	var choices []byte
	if !jsonscan.Members(chunk, func(m jsonscan.Member) {
		if string(m.Key) == "choices" {
			choices = m.Value
		}
	}) {
		return false
	}
	n, opens := 0, true
	well := jsonscan.Elements(choices, func(c []byte) {
		n++
		if !jsonscan.Members(c, func(m jsonscan.Member) {
			switch string(m.Key) {
			case "finish_reason":
				if string(m.Value) != "null" {
					opens = false
				}
			case "delta":
				if string(m.Value) != "null" && !jsonscan.Members(m.Value, func(d jsonscan.Member) {
					if v := string(d.Value); string(d.Key) != "role" && v != `""` && v != "null" && v != "[]" {
						opens = false
					}
				}) {
					opens = false
				}
			}
		}) {
			opens = false
		}
	})
	return well && n > 0 && opens
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
	// next stays valid until the relay asks for the chunk after it.
	return opening, &heldStream{ChunkStream: st, held: next}, nil
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
