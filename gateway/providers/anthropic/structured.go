package anthropic

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Structured outputs: Claude Opus 4.5, Sonnet 4.5, Haiku 4.5 and later
// models constrain their answer to a JSON Schema given as
// output_config.format. Anthropic takes a subset of JSON Schema: every
// object closed (additionalProperties false), no numeric or string bounds,
// no recursion. A schema is sent as Anthropic's own SDKs send it: objects
// closed, the keywords Anthropic lacks written into the description, where
// the model still reads them.

type outputConfig struct {
	Format *outputFormat `json:"format,omitempty"`
}

type outputFormat struct {
	Type   string          `json:"type"` // json_schema
	Schema json.RawMessage `json:"schema"`
}

// structuredOutputs reports a model that takes output_config.format:
// claude-<family>-<major>[-<minor>][-<date>] from 4.5 on. Names of the
// Claude 3 era (claude-3-7-sonnet) and 4.0/4.1 do not.
func structuredOutputs(model string) bool {
	rest, ok := strings.CutPrefix(model, "claude-")
	if !ok {
		return false
	}
	rest, _, _ = strings.Cut(rest, "@") // Vertex names: claude-sonnet-4-5@20250929
	parts := strings.Split(rest, "-")
	if len(parts) < 2 {
		return false
	}
	if _, err := strconv.Atoi(parts[0]); err == nil {
		return false // claude-3-5-sonnet: the version before the family
	}
	major, err := strconv.Atoi(parts[1])
	if err != nil {
		return false
	}
	minor := 0
	if len(parts) > 2 && len(parts[2]) <= 2 { // not a snapshot date
		minor, _ = strconv.Atoi(parts[2])
	}
	return major > 4 || major == 4 && minor >= 5
}

// Anthropic's string formats; another goes into the description.
var stringFormats = map[string]bool{"date-time": true, "time": true, "date": true, "duration": true, "email": true,
	"hostname": true, "uri": true, "ipv4": true, "ipv6": true, "uuid": true}

// Keywords left out without a word: they say nothing about the answer.
var silentKeywords = map[string]bool{"$schema": true, "$id": true, "$comment": true, "strict": true}

// strictSchema rewrites a JSON Schema into the subset Anthropic takes, or
// reports that it cannot: a schema that recurses, refers outside its own
// definitions, has a node of no type, or an object open to other keys
// (additionalProperties true or a schema, or no properties at all).
func strictSchema(raw json.RawMessage) (json.RawMessage, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil, false
	}
	root, ok := v.(map[string]any)
	if !ok || root["type"] != "object" || recursive(root) {
		return nil, false
	}
	out, ok := strictNode(root)
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(out)
	return b, err == nil
}

func strictNode(v any) (map[string]any, bool) {
	in, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	rest := make(map[string]any, len(in))
	for k, x := range in {
		rest[k] = x
	}
	take := func(k string) (any, bool) {
		x, ok := rest[k]
		delete(rest, k)
		return x, ok
	}
	out := map[string]any{}
	for _, k := range []string{"$defs", "definitions"} {
		defs, ok := take(k)
		if !ok {
			continue
		}
		m, isMap := defs.(map[string]any)
		if !isMap {
			return nil, false
		}
		strict := make(map[string]any, len(m))
		for name, d := range m {
			if strict[name], ok = strictNode(d); !ok {
				return nil, false
			}
		}
		out[k] = strict
	}
	if ref, ok := take("$ref"); ok {
		out["$ref"] = ref
		return out, true
	}
	typ, hasType := take("type")
	if hasType {
		out["type"] = typ
	}
	if enum, ok := take("enum"); ok {
		out["enum"] = enum
	}
	if c, ok := take("const"); ok && out["enum"] == nil {
		out["enum"] = []any{c} // the same constraint, in the keyword Anthropic's SDKs keep
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		list, ok := take(k)
		if !ok {
			continue
		}
		items, isList := list.([]any)
		if !isList {
			return nil, false
		}
		strict := make([]any, len(items))
		for i, x := range items {
			if strict[i], ok = strictNode(x); !ok {
				return nil, false
			}
		}
		if k == "oneOf" {
			k = "anyOf" // the closest Anthropic takes
		}
		out[k] = strict
	}
	if !hasType && out["enum"] == nil && out["anyOf"] == nil && out["allOf"] == nil {
		return nil, false // "any value": nothing Anthropic can constrain to
	}
	for _, k := range []string{"description", "title"} {
		if x, ok := take(k); ok {
			out[k] = x
		}
	}
	switch {
	case hasTypeName(typ, "object"):
		props := map[string]any{}
		if p, ok := take("properties"); ok {
			m, isMap := p.(map[string]any)
			if !isMap {
				return nil, false
			}
			for name, x := range m {
				if props[name], ok = strictNode(x); !ok {
					return nil, false
				}
			}
		}
		// Closing an object that takes other keys (a map, an object of
		// any keys) would leave the model no room for them: such a schema
		// is not one Anthropic can take.
		if ap, set := take("additionalProperties"); set && ap != false || !set && len(props) == 0 {
			return nil, false
		}
		out["properties"] = props
		out["additionalProperties"] = false
		if r, ok := take("required"); ok {
			out["required"] = r
		}
	case hasTypeName(typ, "array"):
		if items, ok := take("items"); ok {
			if out["items"], ok = strictNode(items); !ok {
				return nil, false
			}
		}
		if n, ok := rest["minItems"].(float64); ok && (n == 0 || n == 1) {
			out["minItems"] = n
			delete(rest, "minItems")
		}
	case hasTypeName(typ, "string"):
		if f, ok := rest["format"].(string); ok && stringFormats[f] {
			out["format"] = f
			delete(rest, "format")
		}
	}
	for k := range silentKeywords {
		delete(rest, k)
	}
	if len(rest) > 0 {
		b, _ := json.Marshal(rest)
		d, _ := out["description"].(string)
		if d != "" {
			d += "\n\n"
		}
		out["description"] = d + string(b)
	}
	return out, true
}

// hasTypeName reports whether a schema's type (a name or a list of names)
// includes name.
func hasTypeName(typ any, name string) bool {
	switch t := typ.(type) {
	case string:
		return t == name
	case []any:
		for _, x := range t {
			if x == name {
				return true
			}
		}
	}
	return false
}

// recursive reports a schema Anthropic refuses for its references: one
// that refers to itself through its definitions, to its root, or to
// anything but a definition of its own.
func recursive(root map[string]any) bool {
	defs := map[string]any{}
	for _, k := range []string{"$defs", "definitions"} {
		if m, ok := root[k].(map[string]any); ok {
			for name, d := range m {
				defs["#/"+k+"/"+name] = d
			}
		}
	}
	bad := false
	// refs lists the references inside a node, outside nested definitions.
	refs := func(v any) []string {
		var out []string
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, sub := range x {
					if k == "$defs" || k == "definitions" {
						continue
					}
					if k == "$ref" {
						s, _ := sub.(string)
						if _, ok := defs[s]; !ok {
							bad = true
						}
						out = append(out, s)
						continue
					}
					walk(sub)
				}
			case []any:
				for _, sub := range x {
					walk(sub)
				}
			}
		}
		walk(v)
		return out
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var cycle func(ref string) bool
	cycle = func(ref string) bool {
		switch state[ref] {
		case visiting:
			return true
		case done:
			return false
		}
		state[ref] = visiting
		for _, r := range refs(defs[ref]) {
			if cycle(r) {
				return true
			}
		}
		state[ref] = done
		return false
	}
	for _, r := range refs(root) {
		if cycle(r) {
			return true
		}
	}
	return bad
}
