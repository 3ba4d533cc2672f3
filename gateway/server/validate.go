package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/internal/jsonkind"
)

// checkBody applies chat's flat checks (nesting depth, UTF-8 with \u
// escapes) to the body of an endpoint that decodes it itself: decoding
// would quietly turn invalid text into U+FFFD, which chat refuses.
func checkBody(body []byte) *APIError {
	if err := chat.CheckBody(body); err != nil {
		return apiErr(http.StatusBadRequest, "invalid_request", err.Error(), nil)
	}
	return nil
}

// describeJSONError says what is wrong with a request body in the client's
// terms: the field and the JSON type it must have, never Go's type names.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return "the request body must be a JSON object"
		}
		return fmt.Sprintf("%s: must be %s, got %s", te.Field, jsonkind.Of(te.Type), jsonkind.Got(te.Value))
	}
	return "the request body is not valid JSON: " + err.Error()
}

// badJSON is the 400 for a body its endpoint could not decode, naming the
// field in metadata.param as chat's refusals do.
func badJSON(err error) *APIError {
	var md map[string]any
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		md = map[string]any{"param": te.Field}
	}
	return apiErr(http.StatusBadRequest, "invalid_request", describeJSONError(err), md)
}
