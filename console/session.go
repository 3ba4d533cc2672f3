package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	sessionCookie = "rf_session"
	loginCSRF     = "rf_login_csrf"
	langCookie    = "rf_lang"
	sessionTTL    = 12 * time.Hour
)

// session is a signed-in browser: which credential (by hash) and its CSRF
// token. The credential is resolved again on every request.
type session struct {
	kind, credHash string
	csrf           string
	expires        time.Time
	// gen is, for a key, its count of disables at sign-in
	// (projections.KeyInfo.Disables): the session ends when it changes.
	gen uint32
}

// sessionStore keeps signed-in browsers by session ID.
type sessionStore interface {
	// create starts a session under a new random ID. The old ID (if any)
	// is dropped, so an ID planted before sign-in never becomes a
	// signed-in one.
	create(ctx context.Context, old, kind, credHash string, gen uint32) (string, error)
	get(ctx context.Context, id string) (session, bool)
	drop(ctx context.Context, id string) error
}

// sessions is the in-memory store: one instance's own.
type sessions struct {
	mu  sync.Mutex
	m   map[string]session
	now func() time.Time
}

func newSessions() *sessions { return &sessions{m: map[string]session{}, now: time.Now} }

// randomToken is 32 bytes from the CSPRNG, base64url.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *sessions) create(_ context.Context, old, kind, credHash string, gen uint32) (string, error) {
	id := randomToken()
	ss := session{kind: kind, credHash: credHash, csrf: randomToken(), expires: s.now().Add(sessionTTL), gen: gen}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, old)
	for k, v := range s.m { // sweep expired sessions as we go
		if s.now().After(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[id] = ss
	return id, nil
}

func (s *sessions) get(_ context.Context, id string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if !ok || s.now().After(ss.expires) {
		delete(s.m, id)
		return session{}, false
	}
	return ss, true
}

func (s *sessions) drop(_ context.Context, id string) error {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
	return nil
}

// redisSessions keeps sessions in Redis, so that every gateway instance
// behind a load balancer knows them. Keys are the SHA-256 of the session
// ID: the IDs themselves, bearer secrets, are never stored. Redis expires
// them after sessionTTL.
type redisSessions struct {
	rdb    redis.UniversalClient
	prefix string
}

type storedSession struct {
	Kind     string `json:"kind"`
	CredHash string `json:"cred"`
	CSRF     string `json:"csrf"`
	Expires  int64  `json:"exp"` // Unix seconds
	Gen      uint32 `json:"gen,omitempty"`
}

func (r *redisSessions) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return r.prefix + "console:session:" + hex.EncodeToString(sum[:])
}

func (r *redisSessions) create(ctx context.Context, old, kind, credHash string, gen uint32) (string, error) {
	id := randomToken()
	b, err := json.Marshal(storedSession{Kind: kind, CredHash: credHash, CSRF: randomToken(), Expires: time.Now().Add(sessionTTL).Unix(), Gen: gen})
	if err != nil {
		return "", err
	}
	pipe := r.rdb.TxPipeline()
	if old != "" {
		pipe.Del(ctx, r.key(old))
	}
	pipe.Set(ctx, r.key(id), b, sessionTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", err
	}
	return id, nil
}

// get treats an unreachable Redis as no session: the browser signs in again
// rather than being let in unchecked.
func (r *redisSessions) get(ctx context.Context, id string) (session, bool) {
	if id == "" {
		return session{}, false
	}
	b, err := r.rdb.Get(ctx, r.key(id)).Bytes()
	if err != nil {
		return session{}, false
	}
	var st storedSession
	if json.Unmarshal(b, &st) != nil || time.Now().Unix() >= st.Expires {
		return session{}, false
	}
	return session{kind: st.Kind, credHash: st.CredHash, csrf: st.CSRF, expires: time.Unix(st.Expires, 0), gen: st.Gen}, true
}

func (r *redisSessions) drop(ctx context.Context, id string) error {
	return r.rdb.Del(ctx, r.key(id)).Err()
}

// limiter counts sign-in failures per client IP in a sliding window.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
	now    func() time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}, now: time.Now}
}

func (l *limiter) recent(ip string) []time.Time {
	cut := l.now().Add(-l.window)
	f := l.fails[ip]
	i := 0
	for i < len(f) && !f[i].After(cut) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.fails, ip)
	} else {
		l.fails[ip] = f
	}
	return f
}

// blocked reports whether ip has used up its failures, and when it may try again.
func (l *limiter) blocked(ip string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.recent(ip)
	if len(f) < l.max {
		return false, 0
	}
	return true, f[0].Add(l.window).Sub(l.now())
}

func (l *limiter) fail(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[ip] = append(l.recent(ip), l.now())
}

func isTLS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteStrictMode})
}
