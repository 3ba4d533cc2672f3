package paging

import (
	"net/url"
	"slices"
	"testing"
)

func TestParseAndCut(t *testing.T) {
	all := []int{0, 1, 2, 3, 4, 5, 6}
	for _, c := range []struct {
		query string
		page  []int
		next  any
	}{
		{"", []int{0, 1, 2, 3, 4}, 5},
		{"limit=100000", []int{0, 1, 2, 3, 4}, 5},
		{"limit=3&offset=3", []int{3, 4, 5}, 6},
		{"offset=5", []int{5, 6}, nil},
		{"offset=99", []int{}, nil},
	} {
		q, _ := url.ParseQuery(c.query)
		r, err := Parse(q, 5)
		if err != nil {
			t.Fatalf("%q: %v", c.query, err)
		}
		page, fields := Cut(all, r)
		if !slices.Equal(page, c.page) || fields["total"] != len(all) || fields["next_offset"] != c.next {
			t.Fatalf("%q: page %v, fields %v", c.query, page, fields)
		}
	}
	for _, bad := range []string{"limit=0", "limit=-2", "limit=x", "offset=-1", "offset=1.5"} {
		q, _ := url.ParseQuery(bad)
		if _, err := Parse(q, 5); err == nil {
			t.Fatalf("%q was taken", bad)
		}
	}
}
