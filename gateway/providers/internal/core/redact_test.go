package core

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Providers quote the key they refuse, masked in their own ways; every
// form loses the key and keeps the rest of the provider's words.
func TestRedactKeys(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Incorrect API key provided: sk-proj-********************************Q3xA. You can find your API key at https://platform.openai.com/account/api-keys.",
			"Incorrect API key provided: [redacted key]. You can find your API key at https://platform.openai.com/account/api-keys."},
		{"Incorrect API key provided: sk-VKMIs***************************************wjh3.", "Incorrect API key provided: [redacted key]."},
		{"Incorrect API key provided: sk-...nOUA. You can", "Incorrect API key provided: [redacted key]. You can"},
		{"Incorrect API key provided: sk-4ae77***********************afe1.", "Incorrect API key provided: [redacted key]."},
		{"key sk-ant-api03-AbCdEf_gh-IJ012345678 was refused", "key [redacted key] was refused"},
		{"key sk-ant-api03-Ab***xyz was refused", "key [redacted key] was refused"},
		{"Consumer 'api_key:AIzaSyD3x4mpl3Fr4gm3ntOfAK3yXyZ0123456' has been suspended.", "Consumer 'api_key:[redacted key]' has been suspended."},
		{"key AIza****abcd expired", "key [redacted key] expired"},
		{"Incorrect API key provided: nvapi-dy**********xZvs.", "Incorrect API key provided: [redacted key]."},
		{"Incorrect API key provided: https://********************lETQ. You can", "Incorrect API key provided: [redacted key]. You can"},
		{"apiKey: ****************vJkA. You", "apiKey: [redacted key]. You"},
		{`"key":"kod-460f********2829"`, `"key":"[redacted key]"`},
		{"key xyz-sk-live-0123456789 refused", "key [redacted key] refused"},
		{"Authorization: Bearer sk-or-v1-0123456789abcdef", "Authorization: Bearer [redacted key]"},
		// Not keys: words, a risk-free task, three stars, an empty sk-.
		{"invalid x-api-key", "invalid x-api-key"},
		{"a risk-free task-list, ask-me, disk-space", "a risk-free task-list, ask-me, disk-space"},
		{"rated *** of five; sk- alone", "rated *** of five; sk- alone"},
		{"Insufficient Balance", "Insufficient Balance"},
	} {
		if got := RedactKeys(c.in); got != c.want {
			t.Errorf("RedactKeys(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

// An error event of a stream is redacted as it is read.
func TestStreamErrorRedacts(t *testing.T) {
	e := StreamError("p", 401, []byte(`{"error":{"message":"Incorrect API key provided: sk-proj-****Q3xA.","code":"invalid_api_key"}}`))
	if e.Message != "Incorrect API key provided: [redacted key]." {
		t.Fatalf("%q", e.Message)
	}
}

// A refusal is redacted before anything else reads it: the key sent, as it
// is, and any other key-like token.
func TestPostRedactsRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"Key xyz-sk-live-0123456789 refused; earlier key sk-proj-****Q3xA revoked.","code":"invalid_api_key"}}`))
	}))
	defer srv.Close()
	_, err := Post(t.Context(), srv.Client(), "p", srv.URL, []byte(`{}`), false, http.Header{"Authorization": {"Bearer xyz-sk-live-0123456789"}})
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Message != "Key [redacted key] refused; earlier key [redacted key] revoked." {
		t.Fatalf("%v", err)
	}
}
