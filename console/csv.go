package console

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// CSV downloads of the console's tables. Any table with an id on any page
// comes as CSV from the page's own URL with format=csv&table=ID: the same
// handler renders the page, so its role checks, filters and date range
// apply, and the CSV is read from the very table the page shows (the
// figures cannot drift apart). Amounts shown by money() are written as
// plain decimals, and the file starts with a UTF-8 byte-order mark so that
// Excel opens Chinese text correctly.

const (
	csvFormat = "csv"
	utf8BOM   = "\ufeff"
)

// wantsCSV reports whether the request asks for a table as CSV.
func wantsCSV(c echo.Context) bool {
	return c.Request().Method == http.MethodGet && c.QueryParam("format") == csvFormat
}

// csvHref is the page's own URL asking for the table id as CSV.
func csvHref(r *http.Request, id string) string {
	q := url.Values{}
	for k, v := range r.URL.Query() {
		q[k] = append([]string(nil), v...)
	}
	q.Del("flash")
	q.Del("lang")
	q.Set("format", csvFormat)
	q.Set("table", id)
	return r.URL.Path + "?" + q.Encode()
}

// withCSVLinks puts a CSV download link before every table that has an id.
// It copies the page token by token, so nothing else of it changes.
func withCSVLinks(page []byte, r *http.Request, label string) []byte {
	var out bytes.Buffer
	out.Grow(len(page) + 1024)
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		raw := append([]byte(nil), z.Raw()...)
		if tt == html.StartTagToken {
			if name, hasAttr := z.TagName(); atom.Lookup(name) == atom.Table && hasAttr {
				if id := tagAttr(z, "id"); id != "" {
					out.WriteString(`<p class="csv"><a href="` + html.EscapeString(csvHref(r, id)) + `" download data-csv-for="` +
						html.EscapeString(id) + `">` + html.EscapeString(label) + `</a></p>`)
				}
			}
		}
		out.Write(raw)
	}
	return out.Bytes()
}

func tagAttr(z *html.Tokenizer, want string) string {
	for {
		k, v, more := z.TagAttr()
		if string(k) == want {
			return string(v)
		}
		if !more {
			return ""
		}
	}
}

// writeCSV answers with the page's table (the query's table=ID) as CSV.
func writeCSV(c echo.Context, name, lang string, page []byte) error {
	id := c.QueryParam("table")
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return err
	}
	t := findTable(doc, id)
	if t == nil {
		return echo.NewHTTPError(http.StatusNotFound, tr(lang, "csv.notable"))
	}
	var b bytes.Buffer
	b.WriteString(utf8BOM)
	w := csv.NewWriter(&b)
	w.UseCRLF = true // what Excel expects
	if err := w.WriteAll(tableRecords(t)); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+fileName(name+"-"+id)+`.csv"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

// fileName keeps letters, digits, dots, dashes and underscores.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, s)
}

func findTable(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == atom.Table && id != "" && attr(n, "id") == id {
		return n
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if t := findTable(ch, id); t != nil {
			return t
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// tableRecords reads a table as CSV records: its header row (if it has
// one), then every body and footer row. A cell spanning columns is followed by empty ones,
// so columns stay aligned; a row that is a single spanning cell (the
// "(none)" of an empty list) is left out. A table with a header keeps the
// columns it names: a column without a name holds buttons and links (a
// PDF, the actions), not figures. A table without one keeps the columns
// that hold something.
func tableRecords(t *html.Node) [][]string {
	var head []string
	var body [][]string
	for _, sec := range children(t) {
		rows := []*html.Node{sec}
		if sec.DataAtom != atom.Tr {
			rows = children(sec)
		}
		for _, tr := range rows {
			if tr.DataAtom != atom.Tr || isEmptyNote(tr) {
				continue
			}
			if sec.DataAtom == atom.Thead {
				head = headerCells(tr)
				continue
			}
			body = append(body, rowCells(tr))
		}
	}
	width := len(head)
	for _, r := range body {
		width = max(width, len(r))
	}
	named := false
	for _, h := range head {
		named = named || h != ""
	}
	used := make([]bool, width)
	for i := range used {
		if named {
			used[i] = i < len(head) && head[i] != ""
			continue
		}
		for _, r := range body {
			used[i] = used[i] || i < len(r) && r[i] != ""
		}
	}
	rows := body
	if head != nil {
		rows = append([][]string{head}, body...)
	}
	var out [][]string
	for _, r := range rows {
		var rec []string
		for i := 0; i < width; i++ {
			if !used[i] {
				continue
			}
			v := ""
			if i < len(r) {
				v = r[i]
			}
			rec = append(rec, v)
		}
		out = append(out, rec)
	}
	return out
}

// headerCells are a header row's column names, without the arrow of the
// sorted column; a name spanning columns names each of them.
func headerCells(tr *html.Node) []string {
	var out []string
	for _, th := range children(tr) {
		if th.DataAtom != atom.Td && th.DataAtom != atom.Th {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(cellText(th), sortMarkAsc), sortMarkDesc)
		out = append(out, csvValue(name))
		span, _ := strconv.Atoi(attr(th, "colspan"))
		for i := 1; i < span && i < 100; i++ {
			out = append(out, csvValue(name))
		}
	}
	return out
}

// isEmptyNote is a row that is one cell spanning columns: the "(none)" of
// an empty list.
func isEmptyNote(tr *html.Node) bool {
	cells := children(tr)
	if len(cells) != 1 {
		return false
	}
	span, _ := strconv.Atoi(attr(cells[0], "colspan"))
	return span > 1
}

func children(n *html.Node) []*html.Node {
	var out []*html.Node
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type == html.ElementNode {
			out = append(out, ch)
		}
	}
	return out
}

func rowCells(tr *html.Node) []string {
	var out []string
	for _, td := range children(tr) {
		if td.DataAtom != atom.Td && td.DataAtom != atom.Th {
			continue
		}
		out = append(out, csvValue(cellText(td)))
		span, _ := strconv.Atoi(attr(td, "colspan"))
		for i := 1; i < span && i < 100; i++ {
			out = append(out, "")
		}
	}
	return out
}

// cellText is what a cell says to a reader: its text, without its forms,
// buttons and disclosures, on one line.
func cellText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Form, atom.Button, atom.Input, atom.Select, atom.Textarea, atom.Script, atom.Style,
				atom.Template, atom.Canvas, atom.Svg, atom.Details:
				return
			case atom.Br, atom.Div, atom.P:
				b.WriteByte(' ')
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

var (
	moneyText = regexp.MustCompile(`^-?NT\$[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}$`)
	grouped   = regexp.MustCompile(`^-?[0-9]{1,3}(,[0-9]{3})+$`)
	plainNum  = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	negZero   = regexp.MustCompile(`^-0+(\.0+)?$`)
)

// csvValue writes an amount shown as money() (NT$80,000.00, -NT$0.04) and a
// count with separators (12,345) as plain numbers, zero without a sign
// (a page may show a deduction of nothing as -NT$0.00), and defuses text a
// spreadsheet would run as a formula.
func csvValue(s string) string {
	if moneyText.MatchString(s) || grouped.MatchString(s) {
		v := strings.NewReplacer("NT$", "", ",", "").Replace(s)
		if negZero.MatchString(v) {
			v = v[1:]
		}
		return v
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) && !plainNum.MatchString(s) {
		return "'" + s
	}
	return s
}
