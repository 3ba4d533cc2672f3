package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/routefree/routefree/gateway/chat"
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
		return fmt.Sprintf("%s: must be %s, got %s", te.Field, jsonKind(te.Type), te.Value)
	}
	return "the request body is not valid JSON: " + err.Error()
}

// jsonKind names the JSON value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a JSON value"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a JSON value"
}
