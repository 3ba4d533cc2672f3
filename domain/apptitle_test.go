package domain

import "testing"

// The gateway reads an app's title on every request: one with nothing to
// change is not copied.
func TestAppTitleAsSentAllocatesNothing(t *testing.T) {
	for _, title := range []string{"", "Cursor", "My App 2", "臺灣 助手 ❤\ufe0f", "👩🏽 Coder", "1\ufe0f\u20e3 Keycap", "👩\u200d💻 Dev", "👩🏽\u200d💻 Dev", "❤\ufe0f\u200d🔥"} {
		var got string
		if n := testing.AllocsPerRun(100, func() { got = AppTitle(title, MaxAppTitle) }); n != 0 {
			t.Errorf("%+q: %v allocations", title, n)
		}
		if got != title {
			t.Errorf("%+q recorded as %+q", title, got)
		}
	}
}

// A title cut at its bound ends between characters and without the
// space the cut left.
func TestAppTitleCutEndsOnAWord(t *testing.T) {
	for _, c := range []struct {
		sent string
		max  int
		want string
	}{
		{"abc def", 4, "abc"},
		{"臺灣助手", 7, "臺灣"},
		{"\u3000臺灣\u200b助手", 7, "臺灣"},
		{"👩\u200d💻", 7, "👩"}, // not a joiner left joining nothing
	} {
		if got := AppTitle(c.sent, c.max); got != c.want {
			t.Errorf("AppTitle(%+q, %d) = %+q, want %+q", c.sent, c.max, got, c.want)
		}
	}
}

// A zero-width joiner draws two emoji as one; anywhere else it is left
// out, as other invisible characters are.
func TestAppTitleJoinsEmojiOnly(t *testing.T) {
	for _, c := range []struct{ sent, want string }{
		{"Cur\u200dsor", "Cursor"},
		{"👩\u200d💻 Dev", "👩\u200d💻 Dev"},
		{"👩\u200b\u200d💻", "👩\u200d💻"},
		{"👩 \u200d💻", "👩 💻"},
		{"\u200d💻", "💻"},
		{"👩\u200d", "👩"},
		{"👩\u200dA", "👩A"},
	} {
		if got := AppTitle(c.sent, MaxAppTitle); got != c.want {
			t.Errorf("AppTitle(%+q) = %+q, want %+q", c.sent, got, c.want)
		}
		if again := AppTitle(c.want, MaxAppTitle); again != c.want {
			t.Errorf("AppTitle(%+q) = %+q: not as it reads", c.want, again)
		}
	}
}
