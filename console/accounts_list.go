package console

import (
	"cmp"
	"iter"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/projections"
)

// The accounts page searches, filters, sorts and pages the whole directory
// (100,000 accounts) on each view. It does so on compact keys read from the
// directory, keeping only the rows up to its page, and builds the full row
// (with its decimals) of the accounts it shows alone; a CSV keeps every
// matching account's key and builds each row as it is written.

// accountSorts are the accounts list's columns to sort by.
var accountSorts = map[string]bool{"id": true, "org": true, "plan": true, "balance": true, "mtd": true, "opened": true}

// accountFilters are its filters: plan and status.
var accountFilters = []string{"plan", "status"}

// accountKey is an account as the list orders it: its ID, its place in the
// opening order (which orders accounts alike in the sorted column) and the
// sorted column's value, of which one of text, amount and n is used.
type accountKey struct {
	id     string
	text   string
	amount projections.Amount
	n      int64
	seq    int
}

// accountOrder compares keys in the list's order.
func accountOrder(desc bool) func(a, b accountKey) int {
	return func(a, b accountKey) int {
		c := cmp.Compare(a.text, b.text)
		if c == 0 {
			c = a.amount.Cmp(b.amount)
		}
		if c == 0 {
			c = cmp.Compare(a.n, b.n)
		}
		if desc {
			c = -c
		}
		if c == 0 { // a stable sort's order: the opening order, either way
			c = cmp.Compare(a.seq, b.seq)
		}
		return c
	}
}

// accountMatch reports whether an account is kept by the list's search
// (q in lower case) and filters.
func accountMatch(a *projections.AccountSummary, q string, filters map[string]string) bool {
	if q != "" && !strings.Contains(strings.ToLower(strings.Join([]string{a.ID, a.Organisation, a.TaxID, a.Contact, a.Address}, " ")), q) {
		return false
	}
	if v, ok := filters["plan"]; ok && !strings.EqualFold(string(a.Plan), v) {
		return false
	}
	if v, ok := filters["status"]; ok {
		status := "active"
		if a.Suspended {
			status = "suspended"
		}
		if !strings.EqualFold(status, v) {
			return false
		}
	}
	return true
}

// keyOf is an account's key for the column sort.
func keyOf(sort string, seq int, a *projections.AccountSummary) accountKey {
	k := accountKey{id: a.ID, seq: seq}
	switch sort {
	case "id":
		k.text = a.ID
	case "org":
		k.text = a.Organisation
	case "plan":
		k.text = string(a.Plan)
	case "balance":
		k.amount = a.Balance
	case "mtd":
		k.amount = a.MonthSpend
	default: // opened
		k.n = a.OpenedAt
	}
	return k
}

// accountRows searches, filters, sorts and pages the directory by the
// request's query, and gives the IDs of the rows shown, in order.
func (s *server) accountRows(c echo.Context) ([]string, *List) {
	l := newList(c, "", accountFilters)
	l.hash = "accounts"
	if !accountSorts[l.Sort] {
		l.Sort = "opened"
		if l.query.Get(l.param("dir")) == "" {
			l.Desc = false
		}
	}
	q := strings.ToLower(l.Q)
	dir := s.deps.Views.accounts
	now := s.deps.now()
	// First the count, which bounds the page asked for.
	total := 0
	dir.Summaries(now, func(_ int, a projections.AccountSummary) {
		l.All++
		if accountMatch(&a, q, l.Filters) {
			total++
		}
	})
	size := defaultPageSize
	if wantsCSV(c) {
		size = max(total, 1) // a download holds every row found, not one page
	}
	from, to := l.setPage(total, size)
	// Then the page: the first rows up to it, or, past the middle, the last
	// rows from it in the other order, whichever are fewer, kept in a heap.
	order, keep := accountOrder(l.Desc), to
	if from > total-to {
		list := order
		order, keep = func(a, b accountKey) int { return list(b, a) }, total-from
	}
	h := &keyHeap{less: func(a, b accountKey) bool { return order(a, b) < 0 }, keys: make([]accountKey, 0, min(keep, total))}
	if keep > 0 {
		dir.Summaries(now, func(seq int, a projections.AccountSummary) {
			if accountMatch(&a, q, l.Filters) {
				h.offer(keyOf(l.Sort, seq, &a), keep)
			}
		})
	}
	keys := h.keys
	slices.SortFunc(keys, order)
	if keep != to { // the last rows, in the other order: the page is their end, turned
		keys = keys[max(0, len(keys)-(to-from)):]
		slices.Reverse(keys)
	} else {
		keys = keys[min(from, len(keys)):]
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.id
	}
	return ids, l
}

// keyHeap keeps the n first keys offered: a heap whose root is the last
// of them, replaced by any key that comes before it.
type keyHeap struct {
	keys []accountKey
	less func(a, b accountKey) bool
}

func (h *keyHeap) offer(k accountKey, n int) {
	if len(h.keys) < n {
		h.keys = append(h.keys, k)
		for i := len(h.keys) - 1; i > 0; { // up
			p := (i - 1) / 2
			if !h.less(h.keys[p], h.keys[i]) {
				break
			}
			h.keys[p], h.keys[i] = h.keys[i], h.keys[p]
			i = p
		}
		return
	}
	if n == 0 || !h.less(k, h.keys[0]) {
		return
	}
	h.keys[0] = k
	for i := 0; ; { // down
		l, r, last := 2*i+1, 2*i+2, i
		if l < len(h.keys) && h.less(h.keys[last], h.keys[l]) {
			last = l
		}
		if r < len(h.keys) && h.less(h.keys[last], h.keys[r]) {
			last = r
		}
		if last == i {
			return
		}
		h.keys[i], h.keys[last] = h.keys[last], h.keys[i]
		i = last
	}
}

// accountsJSON are the rows of the accounts ids, each built as it is
// asked for: a CSV of every account holds one row at a time.
func (s *server) accountsJSON(ids []string) iter.Seq[AccountJSON] {
	return func(yield func(AccountJSON) bool) {
		for _, id := range ids {
			a, ok := s.deps.Views.Account(id)
			if !ok {
				continue
			}
			if !yield(s.accountJSON(a)) {
				return
			}
		}
	}
}
