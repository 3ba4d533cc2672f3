package console

import (
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// A table's CSV is read from the page as the template writes it, a row at
// a time: a download of every row of a long list (100,000 accounts) never
// holds the rendered page, nor a tree of it, nor the whole CSV. Only a
// table without column names is held until its end, to learn which
// columns hold something.

// errNoTable ends a page's rendering once its table has been read.
var errNoTable = errors.New("console: table not on the page")

// skipped elements hold no figures: forms, buttons, disclosures.
var skipped = map[atom.Atom]bool{atom.Form: true, atom.Button: true, atom.Select: true, atom.Textarea: true,
	atom.Script: true, atom.Style: true, atom.Template: true, atom.Canvas: true, atom.Svg: true, atom.Details: true}

// tableReader reads one table of a page, token by token.
type tableReader struct {
	z       *html.Tokenizer
	id      string
	inTable bool
	depth   int // nested tables inside it
	section atom.Atom
	skip    int // depth inside skipped elements
	row     []string
	spans   []int
	cell    *strings.Builder
	exact   string // the figure behind the cell's text, when it has one
	inRow   bool
}

// next returns the table's next row (head reports a header row) and
// io.EOF after its last; errNoTable when the page ends without it.
func (r *tableReader) next() (cells []string, spans []int, head bool, err error) {
	for {
		tt := r.z.Next()
		if tt == html.ErrorToken {
			if err := r.z.Err(); err != io.EOF {
				return nil, nil, false, err
			}
			if r.inTable {
				return nil, nil, false, io.EOF
			}
			return nil, nil, false, errNoTable
		}
		name, hasAttr := r.z.TagName()
		a := atom.Lookup(name)
		if !r.inTable {
			if tt == html.StartTagToken && a == atom.Table && hasAttr && r.id != "" && tagAttr(r.z, "id") == r.id {
				r.inTable = true
			}
			continue
		}
		if r.depth > 0 { // a table inside a cell: its text is the cell's
			switch {
			case a == atom.Table && tt == html.StartTagToken:
				r.depth++
			case a == atom.Table && tt == html.EndTagToken:
				r.depth--
			case tt == html.TextToken && r.cell != nil && r.skip == 0:
				r.cell.Write(r.z.Text())
			}
			continue
		}
		switch tt {
		case html.TextToken:
			if r.cell != nil && r.skip == 0 {
				r.cell.Write(r.z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			switch {
			case skipped[a]:
				if tt == html.StartTagToken {
					r.skip++
				}
			case a == atom.Table:
				r.depth++
			case a == atom.Thead || a == atom.Tbody || a == atom.Tfoot:
				r.endCell()
				if cells, spans, head, ok := r.endRow(); ok {
					r.section = a
					return cells, spans, head, nil
				}
				r.section = a
			case a == atom.Tr:
				r.endCell()
				cells, spans, head, ok := r.endRow()
				r.inRow = true
				if ok {
					return cells, spans, head, nil
				}
			case a == atom.Td || a == atom.Th:
				r.endCell()
				r.inRow = true
				span := 1
				if hasAttr {
					var colspan string
					colspan, r.exact = cellAttrs(r.z)
					if colspan != "" {
						span, _ = strconv.Atoi(colspan)
					}
				}
				r.spans = append(r.spans, max(span, 1))
				r.cell = &strings.Builder{}
			case a == atom.Br || a == atom.Div || a == atom.P:
				if r.cell != nil && r.skip == 0 {
					r.cell.WriteByte(' ')
				}
			}
		case html.EndTagToken:
			switch {
			case skipped[a]:
				r.skip = max(r.skip-1, 0)
			case a == atom.Td || a == atom.Th:
				r.endCell()
			case a == atom.Tr || a == atom.Thead || a == atom.Tbody || a == atom.Tfoot || a == atom.Table:
				r.endCell()
				cells, spans, head, ok := r.endRow()
				if a == atom.Table {
					r.inTable = false
					r.id = "" // read once
					if ok {
						return cells, spans, head, nil
					}
					return nil, nil, false, io.EOF
				}
				if ok {
					return cells, spans, head, nil
				}
			}
		}
	}
}

func (r *tableReader) endCell() {
	if r.cell != nil {
		v := strings.Join(strings.Fields(r.cell.String()), " ")
		if r.exact != "" {
			v = r.exact
		}
		r.row = append(r.row, v)
		r.cell, r.exact = nil, ""
	}
}

// exactAmount writes an amount as the CSV's other amounts are, to the cent
// (2000.00), and with every decimal it has beyond (0.004).
func exactAmount(d decimal.Decimal) string {
	if d.Exponent() >= -2 {
		return d.StringFixed(2)
	}
	return d.String()
}

// cellAttrs reads a cell's colspan and the exact figure behind its text: a
// chart's table shows each amount to the cent (NT$0.00) and keeps the
// amount in data-value (data-total in its totals row). The CSV gives the
// figure, so that its rows add up to its total as the amounts do.
func cellAttrs(z *html.Tokenizer) (colspan, exact string) {
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "colspan":
			colspan = string(v)
		case "data-value", "data-total":
			if d, err := decimal.NewFromString(string(v)); err == nil && plainNum.Match(v) {
				exact = exactAmount(d)
			}
		}
		if !more {
			return colspan, exact
		}
	}
}

func (r *tableReader) endRow() ([]string, []int, bool, bool) {
	if !r.inRow {
		return nil, nil, false, false
	}
	cells, spans := r.row, r.spans
	r.row, r.spans, r.inRow = nil, nil, false
	return cells, spans, r.section == atom.Thead, true
}

// csvRow is a row's values, a cell spanning columns followed by empty
// ones (a header's name naming each of them).
func csvRow(cells []string, spans []int, head bool) []string {
	out := make([]string, 0, len(cells))
	for i, v := range cells {
		if head {
			v = strings.TrimSuffix(strings.TrimSuffix(v, sortMarkAsc), sortMarkDesc)
		}
		v = csvValue(unisolated(v))
		out = append(out, v)
		for j := 1; j < spans[i] && j < 100; j++ {
			if head {
				out = append(out, v)
			} else {
				out = append(out, "")
			}
		}
	}
	return out
}

// unisolated drops the direction marks that isolate a name at the start
// of a cell (KeyUsage.Label's FIRST STRONG ISOLATE and the POP DIRECTIONAL
// ISOLATE that closes it): a page needs them, a spreadsheet's cell holds
// the name as given. An isolate the name holds itself stays, as does a
// mark without its pair.
func unisolated(v string) string {
	const fsi, pdi = '\u2068', '\u2069'
	rest, ok := strings.CutPrefix(v, string(fsi))
	if !ok {
		return v
	}
	depth := 0
	for i, r := range rest {
		switch {
		case r >= '\u2066' && r <= fsi: // LRI, RLI, FSI open an isolate
			depth++
		case r == pdi && depth > 0:
			depth--
		case r == pdi:
			return rest[:i] + rest[i+len(string(pdi)):]
		}
	}
	return v
}

// pick keeps the used columns of a row.
func pick(r []string, used []bool) []string {
	rec := make([]string, 0, len(used))
	for i, u := range used {
		if !u {
			continue
		}
		v := ""
		if i < len(r) {
			v = r[i]
		}
		rec = append(rec, v)
	}
	return rec
}

// streamCSV answers with the table id of the page render writes, as CSV:
// nothing is sent before the table is found (a page without it is a 404),
// and a page that fails once the file has begun cuts the connection, so
// that a short file is never taken for a whole one.
func streamCSV(c echo.Context, name, lang, id string, render func(io.Writer) error) error {
	pr, pw := io.Pipe()
	go func() {
		err := errors.New("console: the page's rendering failed")
		defer func() { recover(); pw.CloseWithError(err) }() // a panic cuts the file, never the process
		err = render(pw)
	}()
	defer pr.Close() // stops the rendering when the table has been read
	started := false
	err := tableCSV(pr, id, func() io.Writer {
		started = true
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+fileName(name+"-"+id)+`.csv"`)
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Cookie")
		c.Response().WriteHeader(http.StatusOK)
		return c.Response()
	})
	switch {
	case err == nil:
		return nil
	case started:
		panic(http.ErrAbortHandler)
	case errors.Is(err, errNoTable):
		return echo.NewHTTPError(http.StatusNotFound, tr(lang, "csv.notable"))
	}
	return err
}

// tableCSV writes the table id of the page src as CSV (a byte-order mark
// first, so that Excel reads UTF-8) to the writer open gives, called once
// the table is found: its header row (if it has one), then every body and
// footer row. A cell spanning columns is followed by empty ones, so
// columns stay aligned; a row that is a single spanning cell (the "(none)"
// of an empty list) is left out. A table with a header keeps the columns
// it names: a column without a name holds buttons and links (a PDF, the
// actions), not figures. A table without one keeps the columns that hold
// something.
func tableCSV(src io.Reader, id string, open func() io.Writer) error {
	r := &tableReader{z: html.NewTokenizer(src), id: id}
	var (
		head    []string
		used    []bool
		pending [][]string // rows of a table without column names
		w       *csv.Writer
	)
	begin := func() error {
		out := open()
		w = csv.NewWriter(out)
		w.UseCRLF = true // what Excel expects
		_, err := io.WriteString(out, utf8BOM)
		return err
	}
	write := func(rec []string) error {
		if w == nil {
			if err := begin(); err != nil {
				return err
			}
		}
		return w.Write(rec)
	}
	for rows := 1; ; rows++ {
		cells, spans, isHead, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(cells) == 1 && spans[0] > 1 && !isHead { // the "(none)" of an empty list
			continue
		}
		rec := csvRow(cells, spans, isHead)
		switch {
		case isHead:
			head = rec
			named := false
			for _, h := range head {
				named = named || h != ""
			}
			if named {
				used = make([]bool, len(head))
				for i, h := range head {
					used[i] = h != ""
				}
				if err := write(pick(head, used)); err != nil {
					return err
				}
			}
		case used != nil:
			if err := write(pick(rec, used)); err != nil {
				return err
			}
			if rows%256 == 0 {
				if w.Flush(); w.Error() != nil {
					return w.Error()
				}
			}
		default:
			pending = append(pending, rec)
		}
	}
	if used == nil { // no column names: the columns that hold something
		width := len(head)
		for _, p := range pending {
			width = max(width, len(p))
		}
		used = make([]bool, width)
		for i := range used {
			for _, p := range pending {
				used[i] = used[i] || i < len(p) && p[i] != ""
			}
		}
		if head != nil {
			if err := write(pick(head, used)); err != nil {
				return err
			}
		}
		for _, p := range pending {
			if err := write(pick(p, used)); err != nil {
				return err
			}
		}
	}
	if w == nil {
		if err := begin(); err != nil { // a table with no rows
			return err
		}
	}
	w.Flush()
	return w.Error()
}
