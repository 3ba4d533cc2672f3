package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
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

// onceStore remembers the forms acted on, by path and token: in this
// process (onceForms), or in Redis for every instance (redisOnce), since a
// resend may reach another instance than the first copy did.
type onceStore interface {
	// begin claims a form. act is true for the copy that is to act, which
	// then calls done or fail; otherwise to is where an earlier copy led. A
	// copy sent while another acts waits for that one's outcome.
	begin(ctx context.Context, key string) (to string, act bool, err error)
	// done records where the acting copy led.
	done(ctx context.Context, key, to string) error
	// fail forgets the claim, so the form may be sent again.
	fail(ctx context.Context, key string)
}

// onceForms is the onceStore of a single instance.
type onceForms struct {
	mu   sync.Mutex
	seen map[string]*onceEntry
}

type onceEntry struct {
	mu sync.Mutex // held while the form acts: a second copy waits for the first's outcome
	at time.Time
	to string // where the form led ("" until it acted)
}

func (o *onceForms) begin(_ context.Context, key string) (string, bool, error) {
	e := o.entry(key, time.Now())
	e.mu.Lock()
	if e.to != "" {
		e.mu.Unlock()
		return e.to, false, nil
	}
	return "", true, nil // e.mu stays held until done or fail
}

func (o *onceForms) done(_ context.Context, key, to string) error {
	e := o.entry(key, time.Now())
	e.to = to
	e.mu.Unlock()
	return nil
}

func (o *onceForms) fail(_ context.Context, key string) {
	o.entry(key, time.Now()).mu.Unlock()
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
// of forms), any others down to three quarters of the bound. An entry
// whose form is acting is kept: its copy's done or fail needs it.
func (o *onceForms) prune(now time.Time) {
	for k, e := range o.seen {
		if now.Sub(e.at) > onceKeep && e.mu.TryLock() {
			e.mu.Unlock()
			delete(o.seen, k)
		}
	}
	for k, e := range o.seen {
		if len(o.seen) < onceMax*3/4 {
			return
		}
		if e.mu.TryLock() {
			e.mu.Unlock()
			delete(o.seen, k)
		}
	}
}

// redisOnce is the onceStore shared by every instance: a key per form,
// holding onceActing while a copy acts and then where it led.
type redisOnce struct {
	rdb    redis.UniversalClient
	prefix string
}

// onceActing marks a form being acted on; it expires after onceClaim, so
// that a copy whose instance died while acting does not block the form
// for a day. onceWait is how often a waiting copy looks again.
const (
	onceActing = "\x00acting"
	onceClaim  = 2 * time.Minute
	onceWait   = 50 * time.Millisecond
)

func (r *redisOnce) key(key string) string {
	sum := sha256.Sum256([]byte(key))
	return r.prefix + "console:once:" + hex.EncodeToString(sum[:])
}

func (r *redisOnce) begin(ctx context.Context, key string) (string, bool, error) {
	k := r.key(key)
	ctx, cancel := context.WithTimeout(ctx, onceClaim)
	defer cancel()
	for {
		ok, err := r.rdb.SetNX(ctx, k, onceActing, onceClaim).Result()
		if err != nil {
			return "", false, errOnceUnknown(err)
		}
		if ok {
			return "", true, nil
		}
		to, err := r.rdb.Get(ctx, k).Result()
		switch {
		case errors.Is(err, redis.Nil): // the acting copy failed meanwhile: claim again
			continue
		case err != nil:
			return "", false, errOnceUnknown(err)
		case to != onceActing:
			return to, false, nil
		}
		select {
		case <-ctx.Done():
			return "", false, errOnceUnknown(ctx.Err())
		case <-time.After(onceWait):
		}
	}
}

func (r *redisOnce) done(ctx context.Context, key, to string) error {
	return r.rdb.Set(ctx, r.key(key), to, onceKeep).Err()
}

func (r *redisOnce) fail(ctx context.Context, key string) {
	_ = r.rdb.Del(ctx, r.key(key)).Err()
}

// errOnceUnknown refuses a form whose earlier copies cannot be checked
// (Redis unreachable): acting could do it twice.
func errOnceUnknown(err error) error {
	return echo.NewHTTPError(http.StatusServiceUnavailable,
		"cannot tell whether this form was already sent; send it again shortly").SetInternal(err)
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
	ctx := c.Request().Context()
	key := c.Request().URL.Path + "\x00" + tok
	to, first, err := s.auth.forms.begin(ctx, key)
	if err != nil {
		return err
	}
	if !first {
		return c.Redirect(http.StatusSeeOther, withFlash(to, repeatedFlash))
	}
	to, flash, err := act()
	if err != nil {
		s.auth.forms.fail(context.WithoutCancel(ctx), key)
		return err
	}
	s.formDone(ctx, key, to)
	if err := s.caughtUp(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withFlash(to, flash))
}

// formDone records where an acted form led. Failing that, a copy sent
// within onceClaim waits and is then refused, rather than acting again.
func (s *server) formDone(ctx context.Context, key, to string) {
	if err := s.auth.forms.done(context.WithoutCancel(ctx), key, to); err != nil {
		s.deps.Logger.Error("console: recording a form as sent", "err", err)
	}
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
	ctx := c.Request().Context()
	key := c.Request().URL.Path + "\x00" + tok
	to, first, err := s.auth.forms.begin(ctx, key)
	if err != nil || !first {
		return to, err
	}
	to, err = act()
	if err != nil {
		s.auth.forms.fail(context.WithoutCancel(ctx), key)
		return "", err
	}
	s.formDone(ctx, key, to)
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
