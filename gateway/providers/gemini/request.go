package gemini

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// The generateContent request, as much of it as RouteFree uses.
type request struct {
	Contents          []content   `json:"contents"`
	SystemInstruction *content    `json:"systemInstruction,omitempty"`
	Tools             []toolDecl  `json:"tools,omitempty"`
	ToolConfig        *toolConfig `json:"toolConfig,omitempty"`
	GenerationConfig  *genConfig  `json:"generationConfig,omitempty"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

type part struct {
	Text             string            `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	ThoughtSignature string            `json:"thoughtSignature,omitempty"` // the model's, sent back as it came
	InlineData       *blob             `json:"inlineData,omitempty"`
	FileData         *fileData         `json:"fileData,omitempty"`
	FunctionCall     *functionCall     `json:"functionCall,omitempty"`
	FunctionResponse *functionResponse `json:"functionResponse,omitempty"`
}

type blob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type fileData struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type functionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type functionResponse struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type toolDecl struct {
	FunctionDeclarations []funcDecl `json:"functionDeclarations"`
}

type funcDecl struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type toolConfig struct {
	FunctionCallingConfig struct {
		Mode                 string   `json:"mode"`
		AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
	} `json:"functionCallingConfig"`
}

type genConfig struct {
	Temperature      *float64        `json:"temperature,omitempty"`
	TopP             *float64        `json:"topP,omitempty"`
	TopK             *int            `json:"topK,omitempty"`
	MaxOutputTokens  *int            `json:"maxOutputTokens,omitempty"`
	StopSequences    []string        `json:"stopSequences,omitempty"`
	CandidateCount   *int            `json:"candidateCount,omitempty"`
	Seed             *int64          `json:"seed,omitempty"`
	ResponseMimeType string          `json:"responseMimeType,omitempty"`
	ResponseSchema   json.RawMessage `json:"responseSchema,omitempty"`
	ThinkingConfig   *thinkingConfig `json:"thinkingConfig,omitempty"`
}

// thinkingConfig sets either a budget (Gemini 2.5, or an explicit
// reasoning.max_tokens) or a level (Gemini 3 and later), never both:
// Gemini refuses a request that sets the two.
type thinkingConfig struct {
	ThinkingBudget  *int   `json:"thinkingBudget,omitempty"`
	ThinkingLevel   string `json:"thinkingLevel,omitempty"`
	IncludeThoughts bool   `json:"includeThoughts"`
}

// MaxCandidates is the most candidates (a request's n) Gemini generates
// for one request; it refuses more with a 400.
const MaxCandidates = 8

// Check refuses, before any call, what Gemini would refuse for its own
// limits: more than MaxCandidates candidates.
func (Adapter) Check(req *chat.Request) error {
	if req.N != nil && *req.N > MaxCandidates {
		return &chat.ValidationError{Param: "n", Message: fmt.Sprintf("must be at most %d for Gemini upstreams (Google generates at most %d candidates a request)", MaxCandidates, MaxCandidates)}
	}
	return nil
}

// translate builds the generateContent request for model, the upstream's
// model name.
func translate(req *chat.Request, model string) (*request, error) {
	if err := (Adapter{}).Check(req); err != nil {
		return nil, err
	}
	out := &request{}
	names := &callNames{byID: map[string]string{}}
	for i := range req.Messages {
		if err := out.add(&req.Messages[i], names); err != nil {
			return nil, err
		}
	}
	if len(out.Contents) == 0 && out.SystemInstruction != nil {
		// A system prompt alone is the conversation's one user turn:
		// OpenAI's API answers such a request, and Gemini refuses one
		// without contents.
		out.appendTurn("user", out.SystemInstruction.Parts...)
		out.SystemInstruction = nil
	}
	if len(out.Contents) == 0 {
		return nil, &chat.ValidationError{Param: "messages", Message: "needs at least one message with content for gemini upstreams"}
	}
	if len(req.Tools) > 0 {
		tools := declared(req)
		decls := make([]funcDecl, len(tools))
		for i, t := range tools {
			decls[i] = funcDecl{Name: t.Function.Name, Description: t.Function.Description, Parameters: toolParameters(t.Function.Parameters)}
		}
		out.Tools = []toolDecl{{FunctionDeclarations: decls}}
		out.ToolConfig = mapToolChoice(req.ToolChoice)
	}
	g := genConfig{Temperature: req.Temperature, TopP: req.TopP, TopK: req.TopK(), StopSequences: req.Stop, CandidateCount: req.N, Seed: req.Seed}
	if req.MaxCompletionTokens != nil || req.MaxTokens != nil {
		n := req.MaxOutputTokens(0)
		g.MaxOutputTokens = &n
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			g.ResponseMimeType = "application/json"
		case "json_schema":
			g.ResponseMimeType = "application/json"
			g.ResponseSchema = sanitizeSchema(rf.JSONSchema.Schema)
		}
	}
	g.ThinkingConfig = mapThinking(req, model)
	if g.Temperature != nil || g.TopP != nil || g.TopK != nil || g.MaxOutputTokens != nil || g.StopSequences != nil ||
		g.CandidateCount != nil || g.Seed != nil || g.ResponseMimeType != "" || g.ThinkingConfig != nil {
		out.GenerationConfig = &g
	}
	return out, nil
}

// declared are the tools Gemini is told of. It restricts calls to some of
// them by allowedFunctionNames, which it takes with mode ANY alone:
// allowed_tools in mode auto declares only the allowed tools instead.
func declared(req *chat.Request) []chat.Tool {
	if c := req.ToolChoice; c != nil && c.Mode == chat.ToolChoiceAuto {
		return req.CallableTools()
	}
	return req.Tools
}

func mapToolChoice(c *chat.ToolChoice) *toolConfig {
	if c == nil {
		return nil
	}
	tc := &toolConfig{}
	switch c.Mode {
	case chat.ToolChoiceNone:
		tc.FunctionCallingConfig.Mode = "NONE"
	case chat.ToolChoiceRequired:
		tc.FunctionCallingConfig.Mode = "ANY"
		tc.FunctionCallingConfig.AllowedFunctionNames = c.Allowed
	case chat.ToolChoiceFunction:
		tc.FunctionCallingConfig.Mode = "ANY"
		tc.FunctionCallingConfig.AllowedFunctionNames = []string{c.Function}
	default:
		tc.FunctionCallingConfig.Mode = "AUTO"
	}
	return tc
}

// signatureOf is the thought signature Gemini gave with the function call
// callID, from the reasoning_details the client sent back: Gemini wants it
// again on that call (Gemini 3 refuses a function call without it).
func signatureOf(details []chat.ReasoningDetail, callID string) string {
	for _, d := range details {
		if d.Type == chat.ReasoningEncrypted && d.Format == chat.FormatGemini && d.ID == callID && callID != "" {
			return d.Data
		}
	}
	return ""
}

// callNames gives a tool result the name of the function it answers, as
// Gemini's functionResponse needs: by tool_call_id, or, for calls and
// results without an ID (some clients send them so), in the order the
// calls were made.
type callNames struct {
	byID      map[string]string
	withoutID []string // functions called without an ID, not yet answered
}

func (c *callNames) call(id, name string) {
	if id == "" {
		c.withoutID = append(c.withoutID, name)
		return
	}
	c.byID[id] = name
}

func (c *callNames) answer(id string) string {
	if id != "" {
		if name := c.byID[id]; name != "" {
			return name
		}
		return id
	}
	if len(c.withoutID) == 0 {
		return ""
	}
	name := c.withoutID[0]
	c.withoutID = c.withoutID[1:]
	return name
}

func (r *request) add(m *chat.Message, names *callNames) error {
	switch m.Role {
	case chat.RoleSystem, chat.RoleDeveloper:
		if r.SystemInstruction == nil {
			r.SystemInstruction = &content{}
		}
		for _, t := range textsOf(m.Content) {
			r.SystemInstruction.Parts = append(r.SystemInstruction.Parts, part{Text: t})
		}
		return nil
	case chat.RoleTool:
		name := names.answer(m.ToolCallID)
		r.appendTurn("user", part{FunctionResponse: &functionResponse{Name: name, Response: toolResponse(m.Content.String())}})
		return nil
	case chat.RoleAssistant:
		var parts []part
		for _, t := range textsOf(m.Content) {
			parts = append(parts, part{Text: t})
		}
		for _, tc := range m.ToolCalls {
			names.call(tc.ID, tc.Function.Name)
			args := json.RawMessage(tc.Function.Arguments)
			if !isObject(args) {
				args = json.RawMessage(`{}`)
			}
			parts = append(parts, part{FunctionCall: &functionCall{Name: tc.Function.Name, Args: args},
				ThoughtSignature: signatureOf(m.ReasoningDetails, tc.ID)})
		}
		r.appendTurn("model", parts...)
		return nil
	}
	if !m.Content.IsParts() {
		if m.Content.Text != "" {
			r.appendTurn("user", part{Text: m.Content.Text})
		}
		return nil
	}
	parts := make([]part, 0, len(m.Content.Parts))
	for _, p := range m.Content.Parts {
		gp, err := userPart(p)
		if err != nil {
			return err
		}
		if gp != (part{}) {
			parts = append(parts, gp)
		}
	}
	r.appendTurn("user", parts...)
	return nil
}

// appendTurn merges consecutive turns of one role.
func (r *request) appendTurn(role string, parts ...part) {
	if len(parts) == 0 {
		return
	}
	if n := len(r.Contents); n > 0 && r.Contents[n-1].Role == role {
		r.Contents[n-1].Parts = append(r.Contents[n-1].Parts, parts...)
		return
	}
	r.Contents = append(r.Contents, content{Role: role, Parts: parts})
}

func userPart(p chat.Part) (part, error) {
	switch p.Type {
	case chat.PartText:
		return part{Text: p.Text}, nil
	case chat.PartImageURL:
		return urlPart(p.ImageURL.URL, "image/jpeg")
	case chat.PartFile:
		if p.File.FileData == "" {
			return part{}, core.Unsupported("gemini", "file_id")
		}
		if mt, data, ok := core.ParseDataURL(p.File.FileData); ok {
			return part{InlineData: &blob{MimeType: mt, Data: data}}, nil
		}
		return part{InlineData: &blob{MimeType: "application/pdf", Data: p.File.FileData}}, nil
	case chat.PartInputAudio:
		format := p.InputAudio.Format
		if format == "" {
			format = "wav"
		}
		return part{InlineData: &blob{MimeType: "audio/" + format, Data: p.InputAudio.Data}}, nil
	case chat.PartVideoURL, chat.PartInputVideo:
		if youTube(p.VideoURL.URL) {
			// Gemini watches a YouTube video by its link alone.
			return part{FileData: &fileData{FileURI: p.VideoURL.URL}}, nil
		}
		vp, err := urlPart(p.VideoURL.URL, "video/mp4")
		if fd := vp.FileData; fd != nil && !strings.HasPrefix(fd.MimeType, "video/") {
			// A container whose extension names audio first (.webm, .ogg)
			// holds a video here; anything else is taken for MP4.
			if sub, ok := strings.CutPrefix(fd.MimeType, "audio/"); ok {
				fd.MimeType = "video/" + sub
			} else {
				fd.MimeType = "video/mp4"
			}
		}
		return vp, err
	}
	return part{}, core.Unsupported("gemini", p.Type+" content")
}

// youTube reports a link to a YouTube video, which Gemini takes as a
// fileData URI without a MIME type.
func youTube(u string) bool {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") {
		return false
	}
	switch strings.TrimPrefix(strings.ToLower(pu.Hostname()), "www.") {
	case "youtube.com", "m.youtube.com", "youtu.be":
		return true
	}
	return false
}

// urlPart maps a data: URL to inlineData and an http(s) URL to fileData
// with the MIME type guessed from the path's extension.
func urlPart(u, fallback string) (part, error) {
	if mt, data, ok := core.ParseDataURL(u); ok {
		return part{InlineData: &blob{MimeType: mt, Data: data}}, nil
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return part{}, core.Unsupported("gemini", "this URL form")
	}
	p := u
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	mt := mime.TypeByExtension(strings.ToLower(path.Ext(p)))
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	if mt == "" {
		mt = fallback
	}
	return part{FileData: &fileData{MimeType: mt, FileURI: u}}, nil
}

// toolResponse wraps a tool's output: Gemini wants an object.
func toolResponse(s string) json.RawMessage {
	if isObject([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(map[string]string{"content": s})
	return b
}

func isObject(b []byte) bool {
	for _, c := range b {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		return c == '{' && json.Valid(b)
	}
	return false
}

func textsOf(c chat.Content) []string {
	if !c.IsParts() {
		if c.Text == "" {
			return nil
		}
		return []string{c.Text}
	}
	var out []string
	for _, p := range c.Parts {
		if p.Type == chat.PartText && p.Text != "" {
			out = append(out, p.Text)
		}
	}
	return out
}
