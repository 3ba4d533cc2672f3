package providertest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/chat"
)

// Parse parses a chat request or fails the test.
func Parse(t testing.TB, body string) *chat.Request {
	t.Helper()
	r, err := chat.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Drain reads a chunk stream to its end and returns the chunks and the
// error that ended it (io.EOF for a complete stream).
func Drain(t testing.TB, s interface{ Next() ([]byte, error) }) ([]chat.Chunk, error) {
	t.Helper()
	var out []chat.Chunk
	for {
		b, err := s.Next()
		if err != nil {
			return out, err
		}
		var c chat.Chunk
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("chunk is not JSON: %v: %s", err, b)
		}
		out = append(out, c)
	}
}

// Content joins the content deltas of chunks.
func Content(chunks []chat.Chunk) string {
	var b strings.Builder
	for _, c := range chunks {
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				b.WriteString(*ch.Delta.Content)
			}
		}
	}
	return b.String()
}
