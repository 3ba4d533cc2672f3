package console

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// Every list of the console is searched, filtered, sorted and paged on the
// server from the query string, so a link (or the back button) shows the
// same rows, and a page works without JavaScript. A page with several lists
// names each (its parameters are then prefixed: keys_q, keys_page…); the
// links of one list keep the state of the others.

// defaultPageSize is the rows of one page of a list.
const defaultPageSize = 50

// listSpec says how one list is searched, filtered and sorted.
type listSpec[T any] struct {
	name     string         // "" for the page's main list, else the parameter prefix
	size     int            // rows per page (defaultPageSize when 0)
	text     func(T) string // what the search box matches, case-insensitively
	sorts    map[string]func(a, b T) int
	sort     string                    // default sort column
	desc     bool                      // default direction
	filters  map[string]func(T) string // a filter keeps the rows whose value equals the chosen one
	keepHash string                    // fragment the list's links return to (its table's id)
}

// List is a list's state as the templates use it: the query, the page and
// links that keep everything else of the page's query.
type List struct {
	Name    string
	Lang    string
	Q       string
	Sort    string
	Desc    bool
	Page    int
	Pages   int
	Total   int // rows that match
	All     int // rows before search and filters
	First   int // 1-based index of the page's first row (0 when empty)
	Last    int
	Filters map[string]string
	query   url.Values
	hash    string
}

// param is the list's name for a query parameter.
func (l *List) param(k string) string {
	if l.Name == "" {
		return k
	}
	return l.Name + "_" + k
}

// with returns the page's URL (a query string) with the list's parameters
// changed; an empty value removes one. One-shot parameters (flash) go.
func (l *List) with(kv ...string) string {
	q := url.Values{}
	for k, v := range l.query {
		if oneShot[k] {
			continue
		}
		q[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(l.param(kv[i]))
		} else {
			q.Set(l.param(kv[i]), kv[i+1])
		}
	}
	s := "?" + q.Encode()
	if l.hash != "" {
		s += "#" + l.hash
	}
	return s
}

// oneShot parameters are never carried into a list's links: a flash
// message, the language (remembered in its cookie) and the audit checks.
var oneShot = map[string]bool{"flash": true, "lang": true, "check": true}

// PageURL links to page p of the list.
func (l *List) PageURL(p int) string {
	v := ""
	if p > 1 {
		v = strconv.Itoa(p)
	}
	return l.with("page", v)
}

// SortURL sorts by col: ascending first, the other way when already sorted
// by it. It goes back to the first page.
func (l *List) SortURL(col string) string {
	dir := "asc"
	if l.Sort == col && !l.Desc {
		dir = "desc"
	}
	return l.with("sort", col, "dir", dir, "page", "")
}

// The arrows of a sorted column header; a CSV's header leaves them out.
const (
	sortMarkAsc  = " ▲"
	sortMarkDesc = " ▼"
)

// SortMark is the arrow of a sorted column header.
func (l *List) SortMark(col string) string {
	switch {
	case l.Sort != col:
		return ""
	case l.Desc:
		return sortMarkDesc
	}
	return sortMarkAsc
}

// AriaSort is the column header's aria-sort value.
func (l *List) AriaSort(col string) string {
	switch {
	case l.Sort != col:
		return "none"
	case l.Desc:
		return "descending"
	}
	return "ascending"
}

// Filter is the chosen value of a filter ("" for all).
func (l *List) Filter(name string) string { return l.Filters[name] }

// Field is the query name of one of the list's parameters, for its forms.
func (l *List) Field(k string) string { return l.param(k) }

// Hidden are the page's other parameters, which the list's search form
// sends again so searching one list keeps the rest of the page.
func (l *List) Hidden() [][2]string {
	own := map[string]bool{l.param("q"): true, l.param("page"): true}
	for k := range oneShot {
		own[k] = true
	}
	for f := range l.Filters {
		own[l.param(f)] = true
	}
	var out [][2]string
	keys := make([]string, 0, len(l.query))
	for k := range l.query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if own[k] {
			continue
		}
		for _, v := range l.query[k] {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// Prev and Next are the neighbouring pages' links ("" at either end).
func (l *List) Prev() string {
	if l.Page <= 1 {
		return ""
	}
	return l.PageURL(l.Page - 1)
}

func (l *List) Next() string {
	if l.Page >= l.Pages {
		return ""
	}
	return l.PageURL(l.Page + 1)
}

// PageLink is one numbered link of the pager; Gap is an ellipsis.
type PageLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool
}

// PageLinks are the first, last and nearby pages, with gaps between.
func (l *List) PageLinks() []PageLink {
	if l.Pages <= 1 {
		return nil
	}
	var out []PageLink
	last := 0
	for p := 1; p <= l.Pages; p++ {
		if p != 1 && p != l.Pages && (p < l.Page-2 || p > l.Page+2) {
			continue
		}
		if last != 0 && p > last+1 {
			out = append(out, PageLink{Gap: true})
		}
		out = append(out, PageLink{N: p, URL: l.PageURL(p), Current: p == l.Page})
		last = p
	}
	return out
}

// newList reads a list's state from the request.
func newList(c echo.Context, name string, filters []string) *List {
	l := &List{Name: name, Lang: pageLang(c.Request()), query: c.QueryParams(), Filters: map[string]string{}}
	l.Q = strings.TrimSpace(l.query.Get(l.param("q")))
	l.Sort = l.query.Get(l.param("sort"))
	l.Desc = l.query.Get(l.param("dir")) == "desc"
	l.Page, _ = strconv.Atoi(l.query.Get(l.param("page")))
	for _, f := range filters {
		if v := strings.TrimSpace(l.query.Get(l.param(f))); v != "" {
			l.Filters[f] = v
		}
	}
	return l
}

// setPage bounds the page to the total and works out the range shown.
func (l *List) setPage(total, size int) (from, to int) {
	l.Total = total
	l.Pages = max(1, (total+size-1)/size)
	l.Page = min(max(l.Page, 1), l.Pages)
	from = min((l.Page-1)*size, total)
	to = min(from+size, total)
	if to > from {
		l.First, l.Last = from+1, to
	}
	return from, to
}

// apply searches, filters, sorts and pages rows by the request's query.
func (spec listSpec[T]) apply(c echo.Context, rows []T) ([]T, *List) {
	names := make([]string, 0, len(spec.filters))
	for f := range spec.filters {
		names = append(names, f)
	}
	l := newList(c, spec.name, names)
	l.hash = spec.keepHash
	l.All = len(rows)
	if _, ok := spec.sorts[l.Sort]; !ok {
		l.Sort = spec.sort
		if l.query.Get(l.param("dir")) == "" {
			l.Desc = spec.desc
		}
	}
	q := strings.ToLower(l.Q)
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		if q != "" && spec.text != nil && !strings.Contains(strings.ToLower(spec.text(r)), q) {
			continue
		}
		keep := true
		for f, v := range l.Filters {
			if !strings.EqualFold(spec.filters[f](r), v) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, r)
		}
	}
	if by := spec.sorts[l.Sort]; by != nil {
		slices.SortStableFunc(out, func(a, b T) int {
			if l.Desc {
				return by(b, a)
			}
			return by(a, b)
		})
	}
	size := spec.size
	if size <= 0 {
		size = defaultPageSize
	}
	if wantsCSV(c) {
		size = max(len(out), 1) // a download holds every row found, not one page
	}
	from, to := l.setPage(len(out), size)
	return out[from:to], l
}

// pageLang is language's choice without remembering it (newPage does).
func pageLang(r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q == langEN || q == langZH {
		return q
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value == langEN {
		return langEN
	}
	return langZH
}

// by compares rows by one key: the sorts of a listSpec.
func by[T any, K cmp.Ordered](key func(T) K) func(a, b T) int {
	return func(a, b T) int { return cmp.Compare(key(a), key(b)) }
}

// here is the URL the language links start from: the page itself with its
// query (less the language and a one-shot flash), so switching language
// keeps the search, the sort and the page. A page answering a form (POST)
// has no address of its own to return to: its links go to the console's
// start.
func here(r *http.Request) string {
	if r.Method != http.MethodGet && r.Method != http.MethodHead ||
		!strings.HasPrefix(r.URL.Path, "/") || strings.HasPrefix(r.URL.Path, "//") { // never a link off the site
		return "/console/?"
	}
	q := r.URL.Query()
	q.Del("lang")
	q.Del("flash")
	if len(q) == 0 {
		return r.URL.Path + "?"
	}
	return r.URL.Path + "?" + q.Encode() + "&"
}
