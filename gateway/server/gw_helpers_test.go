package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// sdk returns the official OpenAI Go client pointed at the harness, with
// retries off so a failure shows as it happened.
func (h *harness) sdk() openai.Client {
	return openai.NewClient(option.WithBaseURL(h.http.URL+"/api/v1/"), option.WithAPIKey(h.key), option.WithMaxRetries(0))
}

// wire decodes the body a fake received.
func wire(t *testing.T, r providertest.Received) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("fake received a body that is not a JSON object: %q", r.Body)
	}
	return m
}

// jpath walks a decoded JSON value by dot-separated keys and indexes
// ("messages.0.content"); ok is false when a step is missing.
func jpath(v any, path string) (any, bool) {
	for _, step := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[step]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// want asserts that the value at path renders as the given text (numbers
// and arrays through fmt / JSON).
func want(t *testing.T, m map[string]any, path string, expected string) {
	t.Helper()
	v, ok := jpath(m, path)
	if !ok {
		b, _ := json.Marshal(m)
		t.Fatalf("%s missing in %s", path, b)
	}
	got := ""
	switch x := v.(type) {
	case string:
		got = x
	case float64:
		got = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, _ := json.Marshal(x)
		got = string(b)
	}
	if got != expected {
		b, _ := json.Marshal(m)
		t.Fatalf("%s = %s, want %s (in %s)", path, got, expected, b)
	}
}

// absent asserts that a path is not in the body.
func absent(t *testing.T, m map[string]any, path string) {
	t.Helper()
	if v, ok := jpath(m, path); ok {
		t.Fatalf("%s should not be sent upstream, found %v", path, v)
	}
}

// noClientSecret checks that the client's key never went upstream and the
// upstream's own key did.
func (h *harness) noClientSecret(r providertest.Received) {
	h.t.Helper()
	all := fmt.Sprint(r.Header) + r.RawQuery + string(r.Body)
	if strings.Contains(all, h.key) || strings.Contains(all, "sk-rf-") {
		h.t.Fatalf("the client's key reached the upstream: %s", all)
	}
	if !strings.Contains(all, "upstream-secret") {
		h.t.Fatalf("the upstream key was not sent: %v", r.Header)
	}
}

func asOpenAIError(err error, target **openai.Error) bool { return errors.As(err, target) }
