package chat

import (
	"errors"
	"strings"
	"testing"
)

// OpenRouter's own options are never sent upstream, and a wrong JSON type
// in one went unnoticed: "usage": "yes", "transforms": "middle-out" were
// taken as if meant. Each of the long-standing ones must be of its kind
// (or null); a refusal names the option and what it must be.
func TestOwnOptionsOfTheWrongKindAreRefused(t *testing.T) {
	base := `{"model":"a/b","messages":[{"role":"user","content":"hi"}],`
	for _, c := range []struct{ field, value, want string }{
		{"usage", `"yes"`, "an object"},
		{"usage", `true`, "an object"},
		{"transforms", `"middle-out"`, "an array"},
		{"plugins", `{"id":"web"}`, "an array"},
		{"route", `["fallback"]`, "a string"},
		{"debug", `1`, "an object"},
	} {
		_, err := Parse([]byte(base + `"` + c.field + `":` + c.value + `}`))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Param != c.field || !strings.Contains(ve.Message, c.want) {
			t.Errorf("%s: %s: got %v, want a refusal naming %s and that it must be %s", c.field, c.value, err, c.field, c.want)
		}
	}
	for _, ok := range []string{`"usage":{"include":true}`, `"usage":null`, `"transforms":["middle-out"]`, `"transforms":[]`,
		`"plugins":[{"id":"web"}]`, `"route":"fallback"`, `"debug":{"echo_upstream_body":true}`} {
		if _, err := Parse([]byte(base + ok + `}`)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
