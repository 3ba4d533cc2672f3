package providers

import "testing"

func TestForKinds(t *testing.T) {
	for _, k := range []string{KindOpenAI, KindAnthropic, KindGemini} {
		if a, err := For(k); err != nil || a == nil {
			t.Errorf("For(%q) = %v, %v", k, a, err)
		}
	}
	if _, err := For("cohere"); err == nil {
		t.Error("unknown kind accepted")
	}
}
