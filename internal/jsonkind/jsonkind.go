// Package jsonkind names, in JSON's terms, the value a Go type decodes
// from: what a request's field must be when a client sent something else,
// said without Go's type names.
package jsonkind

import "reflect"

// Named is a type that says itself what it decodes from (an amount
// written plainly, say), where its kind alone would not.
type Named interface{ JSONKind() string }

// Of names the JSON value t decodes from: "an integer", "a number", "a
// string", "true or false", "an array" or "an object", or what a Named
// type says.
func Of(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a JSON value"
	}
	if t.Implements(reflect.TypeFor[Named]()) {
		return reflect.Zero(t).Interface().(Named).JSONKind()
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
