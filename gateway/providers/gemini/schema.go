package gemini

import (
	"encoding/json"
	"slices"
	"strings"
)

// Gemini's Schema is an OpenAPI subset: it rejects JSON Schema keywords
// such as additionalProperties, $schema or strict, and writes nullable
// types as nullable: true. sanitizeSchema keeps what Gemini knows.
var schemaKeys = map[string]bool{
	"type": true, "format": true, "title": true, "description": true, "nullable": true, "enum": true,
	"maxItems": true, "minItems": true, "properties": true, "required": true, "minProperties": true,
	"maxProperties": true, "minLength": true, "maxLength": true, "pattern": true, "example": true,
	"anyOf": true, "propertyOrdering": true, "default": true, "items": true, "minimum": true, "maximum": true,
}

// maxRefDepth is how many times one definition is written out inside
// itself: a recursive schema (a tree) is unrolled this deep.
const maxRefDepth = 3

// maxRefExpansions bounds the references written out for one schema: a
// small schema whose definitions each use the next several times would
// otherwise grow exponentially.
const maxRefExpansions = 1000

func sanitizeSchema(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	c := schemaCleaner{root: v, depth: map[string]int{}}
	clean, ok := c.clean(v)
	if !ok {
		return nil
	}
	b, err := json.Marshal(clean)
	if err != nil {
		return nil
	}
	return b
}

// schemaCleaner turns a JSON Schema into Gemini's subset. Gemini's schema
// has no $ref: references (Pydantic's and openai-go's $defs, zod's shared
// parts) are written out where they are used.
type schemaCleaner struct {
	root     any
	depth    map[string]int // how often each reference is open on the current path
	expanded int            // references written out so far
}

// clean returns the schema in Gemini's subset, and false when nothing of it
// can be written: a reference that cannot be resolved or recurses past
// maxRefDepth. The caller then leaves out the property, item or
// alternative that held it.
func (c *schemaCleaner) clean(v any) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return v, true
	}
	if ref, ok := m["$ref"].(string); ok {
		return c.resolve(ref, m["description"])
	}
	if all, ok := m["allOf"].([]any); ok && len(all) == 1 {
		// Pydantic wraps a described reference as allOf of one.
		desc := m["description"]
		if inner, ok := all[0].(map[string]any); ok && desc == nil {
			desc = inner["description"]
		}
		out, ok := c.clean(all[0])
		if o, isMap := out.(map[string]any); ok && isMap && desc != nil {
			o["description"] = desc
		}
		return out, ok
	}
	out := make(map[string]any, len(m))
	var dropped []string // properties left out, to leave out of required too
	for k, val := range m {
		switch {
		case k == "const":
			out["enum"] = []any{val}
		case !schemaKeys[k]:
		case k == "type":
			if types, ok := val.([]any); ok { // ["string","null"]
				for _, t := range types {
					if t == "null" {
						out["nullable"] = true
					} else if _, set := out["type"]; !set {
						out["type"] = t
					}
				}
			} else {
				out[k] = val
			}
		case k == "properties":
			if props, ok := val.(map[string]any); ok {
				clean := make(map[string]any, len(props))
				for name, p := range props {
					if cp, ok := c.clean(p); ok {
						clean[name] = cp
					} else {
						dropped = append(dropped, name)
					}
				}
				out[k] = clean
			}
		case k == "items":
			items, ok := c.clean(val)
			if !ok {
				return nil, false // an array of what cannot be written
			}
			out[k] = items
		case k == "anyOf":
			if list, ok := val.([]any); ok {
				clean := make([]any, 0, len(list))
				for _, s := range list {
					if cs, ok := c.clean(s); ok {
						clean = append(clean, cs)
					}
				}
				if len(clean) == 0 {
					return nil, false
				}
				out[k] = clean
			}
		default:
			out[k] = val
		}
	}
	if req, ok := out["required"].([]any); ok && len(dropped) > 0 {
		out["required"] = slices.DeleteFunc(req, func(name any) bool {
			s, _ := name.(string)
			return slices.Contains(dropped, s)
		})
	}
	// Gemini refuses an object with an empty properties map (an object
	// without fields): it takes the bare object.
	if props, ok := out["properties"].(map[string]any); ok && len(props) == 0 {
		delete(out, "properties")
		if req, ok := out["required"].([]any); ok && len(req) == 0 {
			delete(out, "required")
		}
	}
	return out, true
}

// toolParameters is a tool's parameters in Gemini's schema, nil for a tool
// without arguments: Gemini wants no parameters rather than an object
// with no fields.
func toolParameters(raw json.RawMessage) json.RawMessage {
	clean := sanitizeSchema(raw)
	var root map[string]any
	if json.Unmarshal(clean, &root) == nil && root["properties"] == nil && root["anyOf"] == nil {
		if typ, _ := root["type"].(string); typ == "" || strings.EqualFold(typ, "object") {
			return nil
		}
	}
	return clean
}

// resolve writes out the schema a local reference ("#/$defs/Address",
// "#/definitions/Node", "#") points to, keeping the description written
// beside the reference.
func (c *schemaCleaner) resolve(ref string, desc any) (any, bool) {
	target, ok := c.pointer(ref)
	if !ok || c.depth[ref] >= maxRefDepth || c.expanded >= maxRefExpansions {
		return nil, false
	}
	c.expanded++
	c.depth[ref]++
	defer func() { c.depth[ref]-- }()
	out, ok := c.clean(target)
	if o, isMap := out.(map[string]any); ok && isMap && desc != nil {
		o["description"] = desc
	}
	return out, ok
}

// pointer follows a JSON pointer within the root schema.
func (c *schemaCleaner) pointer(ref string) (any, bool) {
	path, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false // a reference to another document
	}
	v := c.root
	if path == "" {
		return v, true
	}
	for _, step := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		step = strings.ReplaceAll(strings.ReplaceAll(step, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[step]; !ok {
			return nil, false
		}
	}
	return v, true
}
