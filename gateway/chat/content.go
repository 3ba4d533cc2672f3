package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	fastjson "github.com/segmentio/encoding/json"
)

// Content is a message's content: null, a string, or an array of parts.
type Content struct {
	Text  string // the string form
	Parts []Part // the array form, when IsParts
	kind  uint8
}

const (
	contentNull uint8 = iota
	contentText
	contentParts
)

// TextContent returns a string content.
func TextContent(s string) Content { return Content{Text: s, kind: contentText} }

// PartsContent returns an array content.
func PartsContent(p ...Part) Content { return Content{Parts: p, kind: contentParts} }

// IsNull reports whether the content is null or absent.
func (c Content) IsNull() bool { return c.kind == contentNull }

// IsParts reports whether the content is an array of parts.
func (c Content) IsParts() bool { return c.kind == contentParts }

// String returns the text of the content: the string form, or the text
// parts joined (other parts are skipped).
func (c Content) String() string {
	if c.kind != contentParts {
		return c.Text
	}
	if len(c.Parts) == 1 {
		return c.Parts[0].Text
	}
	var b strings.Builder
	for _, p := range c.Parts {
		if p.Type == PartText {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// MarshalJSON writes null, a string or an array.
func (c Content) MarshalJSON() ([]byte, error) {
	switch c.kind {
	case contentText:
		return json.Marshal(c.Text)
	case contentParts:
		return json.Marshal(c.Parts)
	}
	return []byte("null"), nil
}

var errContentType = errors.New("content must be a string, an array of content parts, or null")

// UnmarshalJSON accepts null, a string or an array of parts.
func (c *Content) UnmarshalJSON(b []byte) error {
	switch firstByte(b) {
	case 'n':
		*c = Content{}
		return nil
	case '"':
		c.kind = contentText
		return fastjson.Unmarshal(b, &c.Text)
	case '[':
		c.kind = contentParts
		return fastjson.Unmarshal(b, &c.Parts)
	}
	return errContentType
}

// MarshalJSON writes a mode string, a function object or an
// allowed_tools object.
func (t ToolChoice) MarshalJSON() ([]byte, error) {
	if t.Allowed != nil {
		a := allowedTools{Mode: t.Mode, Tools: make([]namedTool, len(t.Allowed))}
		for i, name := range t.Allowed {
			a.Tools[i].Type, a.Tools[i].Function.Name = "function", name
		}
		return json.Marshal(struct {
			Type         string       `json:"type"`
			AllowedTools allowedTools `json:"allowed_tools"`
		}{"allowed_tools", a})
	}
	if t.Mode == ToolChoiceFunction {
		return json.Marshal(namedTool{Type: "function", Function: toolName{t.Function}})
	}
	return json.Marshal(t.Mode)
}

// allowedTools is OpenAI's allowed_tools: the tools, each named as a
// function choice names one, that the model may call in mode auto or
// required.
type allowedTools struct {
	Mode  string      `json:"mode"`
	Tools []namedTool `json:"tools"`
}

type namedTool struct {
	Type     string   `json:"type"`
	Function toolName `json:"function"`
}

type toolName struct {
	Name string `json:"name"`
}

var errToolChoice = errors.New(`tool_choice must be "none", "auto", "required", {"type":"function","function":{"name":...}} or {"type":"allowed_tools","allowed_tools":{...}}`)

// UnmarshalJSON accepts a mode string, a function object or an
// allowed_tools object (whose names Parse checks against the tools).
func (t *ToolChoice) UnmarshalJSON(b []byte) error {
	switch firstByte(b) {
	case '"':
		if err := fastjson.Unmarshal(b, &t.Mode); err != nil {
			return err
		}
		switch t.Mode {
		case ToolChoiceNone, ToolChoiceAuto, ToolChoiceRequired:
			return nil
		}
	case '{':
		var o struct {
			namedTool
			AllowedTools *allowedTools `json:"allowed_tools"`
		}
		if err := fastjson.Unmarshal(b, &o); err != nil {
			return err
		}
		if o.Type == "allowed_tools" {
			return t.allow(o.AllowedTools)
		}
		if o.Type == "function" && o.Function.Name != "" {
			t.Mode, t.Function = ToolChoiceFunction, o.Function.Name
			return nil
		}
	}
	return errToolChoice
}

// allow takes an allowed_tools object: mode auto or required, and at least
// one function, each named.
func (t *ToolChoice) allow(a *allowedTools) error {
	const at = "tool_choice.allowed_tools"
	switch {
	case a == nil:
		return invalid(at, `is required with type "allowed_tools"`)
	case a.Mode != ToolChoiceAuto && a.Mode != ToolChoiceRequired:
		return invalid(at+".mode", `must be "auto" or "required"`)
	case len(a.Tools) == 0:
		return invalid(at+".tools", "must list at least one of the request's tools")
	}
	t.Mode, t.Allowed = a.Mode, make([]string, len(a.Tools))
	for i, tl := range a.Tools {
		if tl.Type != "function" {
			return invalid(fmt.Sprintf("%s.tools[%d].type", at, i), `must be "function"`)
		}
		if tl.Function.Name == "" {
			return invalid(fmt.Sprintf("%s.tools[%d].function.name", at, i), "is required")
		}
		t.Allowed[i] = tl.Function.Name
	}
	return nil
}

var errStringList = errors.New("must be a string or an array of strings")

// UnmarshalJSON accepts a string or an array of strings.
func (s *StringList) UnmarshalJSON(b []byte) error {
	switch firstByte(b) {
	case 'n':
		*s = nil
		return nil
	case '"':
		var v string
		if err := fastjson.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = StringList{v}
		return nil
	case '[':
		var v []string
		if err := fastjson.Unmarshal(b, &v); err != nil {
			return errStringList
		}
		*s = v
		return nil
	}
	return errStringList
}

// firstByte returns the first non-space byte of a JSON value.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}
