// Package paging reads a list answer's ?limit= and ?offset= and cuts the
// page they ask for, so every list of the admin and customer APIs pages
// the same way: at most a ceiling of items an answer, with the total and,
// while more follow, the offset of the next page.
package paging

import (
	"fmt"
	"net/url"
	"strconv"
)

// Request is a page asked for.
type Request struct{ Limit, Offset int }

// Parse reads limit (max when absent or larger) and offset (0 when
// absent) from q. A value that is not a whole number, a limit under 1 or a
// negative offset is refused with an error naming the parameter.
func Parse(q url.Values, max int) (Request, error) {
	limit, err := count(q, "limit", max, 1)
	if err != nil {
		return Request{}, err
	}
	offset, err := count(q, "offset", 0, 0)
	if err != nil {
		return Request{}, err
	}
	return Request{Limit: min(limit, max), Offset: offset}, nil
}

func count(q url.Values, name string, def, least int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		return 0, fmt.Errorf("%s must be a whole number, %d or more", name, least)
	}
	return n, nil
}

// Cut is the page of all that r asks for, and the answer's paging fields:
// total, and next_offset while more follow.
func Cut[T any](all []T, r Request) (page []T, fields map[string]any) {
	from, to := Bounds(len(all), r)
	return all[from:to], Fields(len(all), r)
}

// Bounds are the indexes of the page r asks for, among total items.
func Bounds(total int, r Request) (from, to int) {
	from = min(r.Offset, total)
	return from, min(from+r.Limit, total)
}

// Fields are the paging fields of the answer to r among total items (a
// list that cuts its page itself): total, and next_offset while more
// follow.
func Fields(total int, r Request) map[string]any {
	fields := map[string]any{"total": total}
	if _, to := Bounds(total, r); to < total {
		fields["next_offset"] = to
	}
	return fields
}
