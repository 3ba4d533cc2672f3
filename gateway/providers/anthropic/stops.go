package anthropic

import "strings"

// Anthropic refuses a stop sequence of whitespace alone ("stop_sequences:
// each stop sequence must contain non-whitespace"), which OpenAI's API
// takes: stop: ["\n"] to end an answer at its first line break. Such
// sequences are left out of the request and applied here, to the answer's
// text: it ends where the first of them begins, with finish_reason
// "stop", as OpenAI's would. Thinking and tool calls are not cut, as
// OpenAI's stop sequences apply to the content alone.

// splitStops parts the request's stop sequences into those Anthropic
// takes and the blank ones, which the gateway applies (an empty one stops
// nothing and is dropped).
func splitStops(stop []string) (sent, applied []string) {
	for _, s := range stop {
		switch {
		case !blank(s):
			sent = append(sent, s)
		case s != "":
			applied = append(applied, s)
		}
	}
	return sent, applied
}

// stopAt is the offset in text where the earliest of stops begins, or -1.
func stopAt(text string, stops []string) int {
	at := -1
	for _, s := range stops {
		if i := strings.Index(text, s); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	return at
}

// heldBack is how many bytes at the end of text may be the start of one
// of stops (in which none begins whole): a stream keeps them until the
// next piece of text tells.
func heldBack(text string, stops []string) int {
	held := 0
	for _, s := range stops {
		for n := min(len(s)-1, len(text)); n > held; n-- {
			if strings.HasSuffix(text, s[:n]) {
				held = n
				break
			}
		}
	}
	return held
}
