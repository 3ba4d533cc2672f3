package console

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// One-time tokens of the finance forms. Each page gives its forms a fresh
// token (onceField), which the confirmation step carries on; the first
// copy of a form acts, and another copy of the same form (a double click,
// a browser resend) changes nothing and leads where the first led, saying
// it was already done. A form is known by its token and the path it posts
// to, so one page's token serves all its forms.

const (
	onceField = "once"
	// repeatedFlash tells that a form was already sent.
	repeatedFlash = "form.repeated"
	// onceKeep is how long a form is remembered: far longer than a resend
	// takes. onceMax bounds the memory it takes.
	onceKeep = 24 * time.Hour
	onceMax  = 100_000
	// onceMaxLen bounds a token; ours are 43 characters.
	onceMaxLen = 100
)

// onceForms remembers the forms acted on.
type onceForms struct {
	mu   sync.Mutex
	seen map[string]*onceEntry
}

type onceEntry struct {
	mu sync.Mutex // held while the form acts: a second copy waits for the first's outcome
	at time.Time
	to string // where the form led ("" until it acted)
}

// entry returns the entry of key, made if new, forgetting the expired.
func (o *onceForms) entry(key string, now time.Time) *onceEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]*onceEntry{}
	}
	if e, ok := o.seen[key]; ok {
		return e
	}
	if len(o.seen) >= onceMax {
		o.prune(now)
	}
	e := &onceEntry{at: now}
	o.seen[key] = e
	return e
}

// prune forgets the expired forms and, when that is not enough (a flood
// of forms), any others down to three quarters of the bound.
func (o *onceForms) prune(now time.Time) {
	for k, e := range o.seen {
		if now.Sub(e.at) > onceKeep {
			delete(o.seen, k)
		}
	}
	for k := range o.seen {
		if len(o.seen) < onceMax*3/4 {
			return
		}
		delete(o.seen, k)
	}
}

// errNoOnce refuses a confirmed form without its one-time token: a page
// older than the token, or a hand-made request.
var errNoOnce = echo.NewHTTPError(http.StatusBadRequest, "the form has no one-time token: reload the page and send it again")

// formToken is the request's one-time token, or errNoOnce.
func formToken(c echo.Context) (string, error) {
	tok := strings.TrimSpace(c.FormValue(onceField))
	if tok == "" || len(tok) > onceMaxLen {
		return "", errNoOnce
	}
	return tok, nil
}

// actOnce answers a form that must act at most once. The first copy runs
// act and, once the projections show what it recorded, is redirected to
// where act leads, with act's flash; a copy of a form that acted is
// redirected there too, with repeatedFlash, and act does not run. A form
// whose act failed may be sent again.
func (s *server) actOnce(c echo.Context, act func() (to, flash string, err error)) error {
	tok, err := formToken(c)
	if err != nil {
		return err
	}
	e := s.once.entry(c.Request().URL.Path+"\x00"+tok, time.Now())
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.to != "" {
		return c.Redirect(http.StatusSeeOther, withFlash(e.to, repeatedFlash))
	}
	to, flash, err := act()
	if err != nil {
		return err
	}
	e.to = to
	if err := s.caughtUp(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withFlash(to, flash))
}

// makeOnce runs act, which makes something new (an account, an API key,
// a staff token) and says where it leads, at most once per one-time
// token. The same form sent again (a double click, the back button and a
// resend) makes nothing, and repeatedTo is where the first copy led: a key
// or token shown once cannot be shown again, and a second one nobody asked
// for is not made. Unlike actOnce, a form without a token (a hand-made
// request) acts every time.
func (s *server) makeOnce(c echo.Context, act func() (to string, err error)) (repeatedTo string, err error) {
	tok := strings.TrimSpace(c.FormValue(onceField))
	if tok == "" || len(tok) > onceMaxLen {
		_, err := act()
		return "", err
	}
	e := s.once.entry(c.Request().URL.Path+"\x00"+tok, time.Now())
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.to != "" {
		return e.to, nil
	}
	to, err := act()
	if err != nil {
		return "", err
	}
	e.to = to
	return "", nil
}

// withFlash adds a flash message to a console path.
func withFlash(to, flash string) string {
	u, err := url.Parse(to)
	if err != nil {
		return to
	}
	q := u.Query()
	q.Set("flash", flash)
	u.RawQuery = q.Encode()
	return u.String()
}
