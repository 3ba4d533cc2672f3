package chat

import (
	"encoding/json"
	"errors"
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

// MarshalJSON writes a mode string or a function object.
func (t ToolChoice) MarshalJSON() ([]byte, error) {
	if t.Mode == ToolChoiceFunction {
		type fn struct {
			Name string `json:"name"`
		}
		return json.Marshal(struct {
			Type     string `json:"type"`
			Function fn     `json:"function"`
		}{"function", fn{t.Function}})
	}
	return json.Marshal(t.Mode)
}

var errToolChoice = errors.New(`tool_choice must be "none", "auto", "required" or {"type":"function","function":{"name":...}}`)

// UnmarshalJSON accepts a mode string or a function object.
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
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if err := fastjson.Unmarshal(b, &o); err != nil {
			return err
		}
		if o.Type == "function" && o.Function.Name != "" {
			t.Mode, t.Function = ToolChoiceFunction, o.Function.Name
			return nil
		}
	}
	return errToolChoice
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
