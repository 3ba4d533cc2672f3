package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawGet GETs a path (and query) exactly as written, escapes kept, and
// returns the status and body.
func (h *harness) rawGet(path, key string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.http.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if sent := req.URL.RequestURI(); sent != path {
		h.t.Fatalf("the client would send %s, not %s", sent, path)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The OpenAI SDK's models.retrieve("author/slug") escapes the slash
// (/models/author%2Fslug): the model answers as at /models/author/slug, and
// the routes beside it still answer.
func TestModelByEscapedID(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	code, want := h.rawGet("/api/v1/models/test/openai", "")
	if code != http.StatusOK {
		t.Fatalf("/models/test/openai: %d %s", code, want)
	}
	for _, path := range []string{"/api/v1/models/test%2Fopenai", "/api/v1/models/test%2fopenai", "/api/v1/model/test%2Fopenai"} {
		if code, got := h.rawGet(path, ""); code != http.StatusOK || got != want {
			t.Errorf("%s: %d %s\nwant the answer of /models/test/openai: %s", path, code, got, want)
		}
	}

	code, wantEps := h.rawGet("/api/v1/models/test/openai/endpoints", "")
	if code != http.StatusOK {
		t.Fatalf("/models/test/openai/endpoints: %d %s", code, wantEps)
	}
	if code, got := h.rawGet("/api/v1/models/test%2Fopenai/endpoints", ""); code != http.StatusOK || got != wantEps {
		t.Errorf("/models/test%%2Fopenai/endpoints: %d %s\nwant %s", code, got, wantEps)
	}

	for path, model := range map[string]string{
		"/api/v1/models/test%2Fnope":           "test/nope",
		"/api/v1/models/test%2fnope":           "test/nope",
		"/api/v1/models/nope":                  "nope",
		"/api/v1/models/test%2Fnope/endpoints": "test/nope",
	} {
		code, body := h.rawGet(path, "")
		if code != http.StatusNotFound {
			t.Errorf("%s: %d %s, want 404", path, code, body)
			continue
		}
		e := decodeError(t, []byte(body))
		if e.Error.Code != http.StatusNotFound || e.Error.Metadata["model"] != model {
			t.Errorf("%s: %s, want a 404 naming %s", path, body, model)
		}
	}
	// An escaped slash and a further path are not a model's page.
	if code, body := h.rawGet("/api/v1/models/test%2Fopenai/other", ""); code != http.StatusNotFound {
		t.Errorf("/models/test%%2Fopenai/other: %d %s, want 404", code, body)
	}

	if code, body := h.rawGet("/api/v1/models/count", ""); code != http.StatusOK || body != `{"data":{"count":3}}`+"\n" {
		t.Errorf("/models/count: %d %s", code, body)
	}
	if code, body := h.rawGet("/api/v1/models/user", h.key); code != http.StatusOK {
		t.Errorf("/models/user: %d %s", code, body)
	}
}

// A model's page reads as both SDKs read it: the OpenAI SDK's
// models.retrieve takes the model from the top of the body (id, object,
// created, owned_by), the OpenRouter SDK's models.get from "data".
func TestModelAnswerReadsAsEitherSDKs(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, path := range []string{"/api/v1/models/test%2Fopenai", "/api/v1/models/test/openai", "/api/v1/model/test/openai"} {
		code, body := h.rawGet(path, "")
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		var m struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			OwnedBy string `json:"owned_by"`
			Data    struct {
				ID     string `json:"id"`
				Object string `json:"object"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		if m.ID != "test/openai" || m.Object != "model" || !strings.Contains(body, `"created":`) || m.OwnedBy != "test" || m.Data.ID != "test/openai" || m.Data.Object != "model" {
			t.Errorf("%s: %s\nwant the model at the top and under data", path, body)
		}
	}
}
