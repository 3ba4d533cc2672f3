package console

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
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

// fileName keeps letters, digits, dots, dashes and underscores.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, s)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
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
