package domain

// IsBidiControl reports the embeddings, overrides and isolates of Unicode's
// bidirectional algorithm (U+202A–U+202E, U+2066–U+2069): in a stored text
// shown to others (a key's name, an app's title) they make it read as
// another.
func IsBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}
