package core

// EmbedRequest is an embeddings request as the gateway passes it to an
// upstream: either texts or, for OpenAI-shaped upstreams only, token arrays.
type EmbedRequest struct {
	Texts      []string
	Tokens     [][]int
	Dimensions int // 0: the model's default
	User       string
}

// Embeddings is an upstream's answer: one vector per input, in order.
// PromptTokens is 0 when the upstream reported no usage (Gemini's batch
// endpoint does not): the gateway then counts the input itself.
type Embeddings struct {
	Vectors      [][]float64
	PromptTokens int
	// UnreadableUsage: the reported count was not written as an integer that fits.
	UnreadableUsage bool
}
