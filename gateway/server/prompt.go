package server

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// A chat request that gave OpenRouter's prompt in place of messages is
// answered as OpenRouter's schema answers one: each choice carries its text
// as "text" (OpenRouter's NonChatChoice), beside the chat message or delta,
// whole or streamed. promptWriter adds it to what the chat pipeline writes.
type promptWriter struct{ translated }

func newPromptWriter(w http.ResponseWriter) *promptWriter {
	p := &promptWriter{}
	p.translated.w = w
	p.onEvent = p.event
	return p
}

// event writes one event of the chat stream with its choices' text.
func (p *promptWriter) event(ev []byte) error {
	out := ev
	if data, ok := bytes.CutPrefix(ev, sseData); ok && !bytes.Equal(data, []byte("[DONE]")) {
		if t, err := choicesWithText(data); err == nil {
			out = append(append([]byte(nil), sseData...), t...)
		}
	}
	_, err := p.w.Write(append(out, sseEnd...))
	return err
}

// finish writes a held answer: a completion with its choices' text, an
// error as it is.
func (p *promptWriter) finish() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stream || p.status == 0 {
		return nil
	}
	out := p.buf.Bytes()
	if p.status == http.StatusOK {
		if t, err := choicesWithText(out); err == nil {
			out = t
		}
	}
	p.w.WriteHeader(p.status)
	_, err := p.w.Write(out)
	return err
}

// choicesWithText adds "text" to each choice of a chat completion or chunk:
// its message's (or delta's) content, "" when it has none. An answer
// without choices (a stream's usage chunk) is left as it is.
func choicesWithText(b []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var choices []map[string]json.RawMessage
	if err := json.Unmarshal(m["choices"], &choices); err != nil || len(choices) == 0 {
		return b, nil
	}
	for _, ch := range choices {
		src := ch["message"]
		if src == nil {
			src = ch["delta"]
		}
		var part struct {
			Content *string `json:"content"`
		}
		_ = json.Unmarshal(src, &part)
		text := ""
		if part.Content != nil {
			text = *part.Content
		}
		ch["text"], _ = json.Marshal(text)
	}
	var err error
	if m["choices"], err = json.Marshal(choices); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}
