package eventstore

import "testing"

// Positions order by commit, then by prepare within a commit.
func TestPositionLess(t *testing.T) {
	for _, c := range []struct {
		p, q Position
		want bool
	}{
		{Position{1, 9}, Position{2, 0}, true},
		{Position{2, 0}, Position{1, 9}, false},
		{Position{3, 1}, Position{3, 2}, true},
		{Position{3, 2}, Position{3, 2}, false},
		{Position{3, 2}, Position{3, 1}, false},
		{Start, Position{0, 1}, true},
	} {
		if got := c.p.Less(c.q); got != c.want {
			t.Errorf("%+v < %+v = %v, want %v", c.p, c.q, got, c.want)
		}
	}
}
