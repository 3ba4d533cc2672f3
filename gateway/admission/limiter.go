package admission

import (
	"context"
	"math/bits"
	"time"
)

// Limits are a key's per-minute limits; 0 means unlimited.
type Limits struct{ RPM, TPM int64 }

// Window is one dimension's state, for the x-ratelimit-* headers. Limit 0
// means that dimension is unlimited (omit its headers).
type Window struct {
	Limit, Remaining int64
	Reset            time.Duration // until the window is back to its full limit
}

// Decision is the limiter's answer for one request.
type Decision struct {
	Allowed          bool
	Requests, Tokens Window
	RetryAfter       time.Duration // when !Allowed: wait this long for both to fit
	Reason           string        // "rpm" or "tpm" when !Allowed
	// TooLarge: the estimate alone exceeds the TPM limit, so no wait helps
	// (RetryAfter is 0); answer 429 "request too large" or lower max_tokens.
	TooLarge bool
}

// RateLimiter admits requests against per-key RPM and TPM limits.
type RateLimiter interface {
	// Admit takes 1 request and estTokens only if both fit.
	Admit(ctx context.Context, key string, l Limits, estTokens int64, now time.Time) (Decision, error)
	// Settle corrects the key's token count from estTokens to actualTokens
	// at now, the moment the usage is known (a long stream's end, not its
	// start, so that the tokens count in the current window).
	Settle(ctx context.Context, key string, l Limits, estTokens, actualTokens int64, now time.Time) error
}

// Reasons for a refusal.
const (
	ReasonRPM = "rpm"
	ReasonTPM = "tpm"
)

// periodUS is the limits' period, one minute, in microseconds.
const periodUS = int64(60_000_000)

// maxCostUS caps one increment so TATs stay exact in Lua doubles.
const maxCostUS = int64(1) << 50

// gcraCost is the TAT increment for n units at limit per minute:
// floor(n·period/limit). Lua computes the same.
func gcraCost(n, limit int64) int64 {
	if n <= 0 || limit <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(n), uint64(periodUS))
	if hi >= uint64(limit) {
		return maxCostUS
	}
	q, _ := bits.Div64(hi, lo, uint64(limit))
	if q > uint64(maxCostUS) {
		return maxCostUS
	}
	return int64(q)
}

// gcraState is one key's theoretical arrival times, in Unix microseconds,
// and the limits they were taken under (0: none yet).
type gcraState struct{ req, tok, rpm, tpm int64 }

// rescale re-expresses a backlog taken at limit from per minute as the same
// number of units at limit to, so that a plan or limit change counts what
// was used at the new rate from the next request on (floor, like gcraCost;
// Lua computes the same).
func rescale(tat, now, from, to int64) int64 {
	if from <= 0 || to <= 0 || from == to || tat <= now {
		return tat
	}
	hi, lo := bits.Mul64(uint64(tat-now), uint64(from))
	if hi >= uint64(to) {
		return now + maxCostUS
	}
	q, _ := bits.Div64(hi, lo, uint64(to))
	return now + min(int64(q), maxCostUS)
}

// limits moves the state to l, rescaling each limited dimension's backlog.
func (s *gcraState) limits(l Limits, now int64) {
	if l.RPM > 0 {
		s.req, s.rpm = rescale(s.req, now, s.rpm, l.RPM), l.RPM
	}
	if l.TPM > 0 {
		s.tok, s.tpm = rescale(s.tok, now, s.tpm, l.TPM), l.TPM
	}
}

// Outcome codes shared with the Lua script.
const (
	outAllowed = iota
	outRPM
	outTPM
	outTooLarge
)

// admit applies the admission rule to s and returns the outcome code, the
// wait in µs, and each dimension's backlog (TAT − now) after the decision.
func (s *gcraState) admit(l Limits, est, now int64) (out int, wait, backR, backT int64) {
	s.limits(l, now)
	tr, tt := max(s.req, now), max(s.tok, now)
	nr, nt := tr, tt
	okR, okT, tooLarge := true, true, false
	if l.RPM > 0 {
		nr += gcraCost(1, l.RPM)
		if nr-now > periodUS {
			okR, wait = false, nr-now-periodUS
		}
	}
	if l.TPM > 0 {
		if est > l.TPM {
			okT, tooLarge = false, true
		} else {
			nt += gcraCost(est, l.TPM)
			if nt-now > periodUS {
				okT, wait = false, max(wait, nt-now-periodUS)
			}
		}
	}
	switch {
	case okR && okT:
		s.req, s.tok = nr, nt
		return outAllowed, 0, nr - now, nt - now
	case !okR:
		out = outRPM
	case tooLarge:
		out, wait = outTooLarge, 0
	default:
		out = outTPM
	}
	return out, wait, tr - now, tt - now
}

// settle moves the token TAT by actual − est, never below now.
func (s *gcraState) settle(tpm, est, actual, now int64) {
	est, actual = max(est, 0), max(actual, 0)
	if tpm <= 0 || est == actual {
		return
	}
	s.tok, s.tpm = rescale(s.tok, now, s.tpm, tpm), tpm
	t := max(s.tok, now)
	if actual > est {
		t += gcraCost(actual-est, tpm)
	} else {
		t = max(t-gcraCost(est-actual, tpm), now)
	}
	s.tok = t
}

// decision turns an outcome into the headers' view.
func decision(l Limits, out int, wait, backR, backT int64) Decision {
	d := Decision{
		Allowed:  out == outAllowed,
		Requests: window(l.RPM, backR),
		Tokens:   window(l.TPM, backT),
	}
	switch out {
	case outRPM:
		d.Reason = ReasonRPM
	case outTPM:
		d.Reason = ReasonTPM
	case outTooLarge:
		d.Reason, d.TooLarge = ReasonTPM, true
	}
	if !d.Allowed {
		d.RetryAfter = time.Duration(wait) * time.Microsecond
	}
	return d
}

// window: remaining = floor((period − backlog)·limit/period), at least 0;
// the reset is the whole backlog, which a request that used more tokens
// than its estimate (or a lower limit) can take past a minute.
func window(limit, back int64) Window {
	if limit <= 0 {
		return Window{}
	}
	back = max(back, 0)
	hi, lo := bits.Mul64(uint64(periodUS-min(back, periodUS)), uint64(limit))
	rem, _ := bits.Div64(hi, lo, uint64(periodUS))
	reset := time.Duration(min(back, int64(1<<63-1)/1000)) * time.Microsecond // no overflow
	return Window{Limit: limit, Remaining: int64(rem), Reset: reset}
}
