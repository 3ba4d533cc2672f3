package gemini

import "encoding/json"

// Gemini's Schema is an OpenAPI subset: it rejects JSON Schema keywords
// such as additionalProperties, $schema or strict, and writes nullable
// types as nullable: true. sanitizeSchema keeps what Gemini knows.
var schemaKeys = map[string]bool{
	"type": true, "format": true, "title": true, "description": true, "nullable": true, "enum": true,
	"maxItems": true, "minItems": true, "properties": true, "required": true, "minProperties": true,
	"maxProperties": true, "minLength": true, "maxLength": true, "pattern": true, "example": true,
	"anyOf": true, "propertyOrdering": true, "default": true, "items": true, "minimum": true, "maximum": true,
}

func sanitizeSchema(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	b, err := json.Marshal(cleanSchema(v))
	if err != nil {
		return nil
	}
	return b
}

func cleanSchema(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
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
					clean[name] = cleanSchema(p)
				}
				out[k] = clean
			}
		case k == "items":
			out[k] = cleanSchema(val)
		case k == "anyOf":
			if list, ok := val.([]any); ok {
				clean := make([]any, len(list))
				for i, s := range list {
					clean[i] = cleanSchema(s)
				}
				out[k] = clean
			}
		default:
			out[k] = val
		}
	}
	return out
}
