package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/console/headers"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ContentSecurityPolicy is sent with every response of the console, the
// admin API and the public pages (and of invoicing's API).
const ContentSecurityPolicy = headers.ContentSecurityPolicy

// securityHeaders sets the CSP, its companions and no-store before the
// handler runs, so error responses carry them too.
var securityHeaders = headers.Secure

var funcs = template.FuncMap{
	"t":        tr,
	"tf":       trf,
	"money":    money,
	"shares":   shares,
	"byReason": byReason,
	"ntd":      ntd,
	"count":    thousands,
	"upper":    strings.ToUpper,
	"add":      func(a, b int64) int64 { return a + b },
	"neg":      func(a int64) int64 { return -a }, // ntd (neg 0) reads NT$0.00, never -NT$0.00
	"reason":   reasonText,
	"date":     func(t time.Time) string { return t.In(projections.Taipei).Format("2006-01-02 15:04") },
	"day":      func(t time.Time) string { return t.In(projections.Taipei).Format(time.DateOnly) },
	"lastday":  lastDay,
	"list":     func(s ...string) []string { return s },
	"dict":     dict,
	"join":     strings.Join,
	"inc":      func(i int) int { return i + 1 },
	"pdf":      invoicePDF,
	"errtxt":   reasonOf,
	"json":     jsonText,
}

// lastDay is the last Taipei day a key with that expiry works on (at
// least part of), as the key forms take it; empty for a key that never
// expires.
func lastDay(at *time.Time) string {
	if at == nil {
		return ""
	}
	return at.Add(-time.Second).In(projections.Taipei).Format(time.DateOnly)
}

// dict makes a map of its key-value pairs, for a template called with
// more than one value.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		m[k] = kv[i+1]
	}
	return m
}

// jsonText shows a stored event's JSON with its bidirectional controls
// (U+200E/F, U+202A-E, U+2066-9) written as the JSON escapes they equal:
// the auditor sees them, and they cannot reorder the text they are in.
func jsonText(b []byte) string {
	var out strings.Builder
	for _, r := range string(b) {
		if isBidiControl(r) {
			fmt.Fprintf(&out, "\\u%04x", r)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

// isBidiControl is domain.IsBidiControl and the left-to-right and
// right-to-left marks, which shown raw would move what follows them too.
func isBidiControl(r rune) bool {
	return r == '\u200e' || r == '\u200f' || domain.IsBidiControl(r)
}

// partials are templates that pages include rather than pages.
var partials = map[string]bool{"layout": true, "chart": true, "selfservice": true, "list": true}

var pages = func() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if partials[base] {
			continue
		}
		out[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/chart.html", "templates/selfservice.html", "templates/list.html", n))
	}
	return out
}()

// page is what every template gets.
type page struct {
	Lang     string
	Title    string // message key
	Subtitle string
	P        auth.Principal
	SignedIn bool
	CSRF     string
	Flash    string        // message key
	Error    template.HTML // escaped, its quoted parts isolated (errorText)
	Detail   string        // an error's own words, when no translation knows them
	Data     any
	Here     string // this page's URL without lang, ending in ? or &: the language links add theirs
	Payments bool   // card and ATM top-ups are offered (Deps.Payments)
}

// newPage fills the common part of a page from the request.
func (s *server) newPage(c echo.Context, title string, data any) *page {
	p := &page{Lang: language(c.Response(), c.Request()), Title: title, Data: data, Here: here(c.Request()), Payments: s.deps.Payments != nil}
	if pr, ok := auth.FromContext(c); ok {
		p.P, p.SignedIn = pr, true
	} else if pr, err := s.auth.Authenticate(c.Request()); err == nil {
		p.P, p.SignedIn = pr, true
	}
	if ss, ok := s.auth.session(c.Request()); ok && p.SignedIn {
		p.CSRF = ss.csrf
	}
	if f := c.QueryParam("flash"); known(f) {
		p.Flash = f
	}
	return p
}

func (s *server) render(c echo.Context, status int, name string, p *page) error {
	t, ok := pages[name]
	if !ok {
		return fmt.Errorf("console: no template %q", name)
	}
	if status == http.StatusOK && c.Request().Method == http.MethodGet && wantsCSV(c) {
		return streamCSV(c, name, p.Lang, c.QueryParam("table"), func(w io.Writer) error { return t.ExecuteTemplate(w, "layout", p) })
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		return err
	}
	out := b.Bytes()
	if status == http.StatusOK && c.Request().Method == http.MethodGet {
		out = withCSVLinks(out, c.Request(), tr(p.Lang, "csv.download"))
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
	return c.HTMLBlob(status, out)
}

// htmlErrors renders a page's error as HTML: a signed-out visitor goes to
// the sign-in page, every other error gets an error page with its status.
func (s *server) htmlErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		var rate *commands.KeyRateError
		if errors.As(err, &rate) {
			c.Response().Header().Set("Retry-After", fmt.Sprint(rate.RetryAfterSeconds()))
		}
		err = apiError(err)
		status, msg := http.StatusInternalServerError, "internal error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			status, msg = he.Code, fmt.Sprint(he.Message)
		} else {
			s.deps.Logger.Error("console page failed", "path", c.Path(), "err", err)
		}
		if status == http.StatusUnauthorized && c.Request().Method == http.MethodGet {
			return c.Redirect(http.StatusSeeOther, "/console/signin")
		}
		p := s.newPage(c, "title.error", nil)
		p.Subtitle = fmt.Sprint(status)
		p.Error, p.Detail = errorText(p.Lang, status, msg)
		return s.render(c, status, "error", p)
	}
}

// staticFiles serves the embedded assets.
func staticFiles() echo.HandlerFunc {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	h := http.StripPrefix("/console/static/", http.FileServer(http.FS(sub)))
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
