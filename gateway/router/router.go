// Package router turns a model ID into the upstreams to try, in priority
// order, skipping those that are not configured or whose breaker is open.
package router

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/routefree/routefree/gateway/catalog"
)

// Target is one upstream, resolved against the environment.
type Target struct {
	Provider string
	Kind     string
	BaseURL  string
	Model    string
	APIKey   string
	Breaker  *Breaker
	// Region is where the upstream processes requests (expanded from the
	// environment); Policy its data policy, nil when the catalog says none.
	Region string
	Policy *catalog.DataPolicy
	// Params are the request parameters the upstream takes.
	Params []string
	// Index is the upstream's position in its model's catalog upstreams:
	// what names it where its key may not be shown (metrics labels).
	Index int
	// latency is the smoothed time to first byte in nanoseconds, 0 until
	// the first answer: what sort "latency" and "throughput" order by.
	latency atomic.Int64
}

// Observe folds one answer's time to first byte into the upstream's
// smoothed latency (an exponential moving average, weight 1/4).
func (t *Target) Observe(d time.Duration) {
	if d <= 0 {
		d = 1
	}
	for {
		old := t.latency.Load()
		next := int64(d)
		if old != 0 {
			next = old + (int64(d)-old)/4
		}
		if t.latency.CompareAndSwap(old, next) {
			return
		}
	}
}

// Latency is the smoothed time to first byte; 0 when never observed.
func (t *Target) Latency() time.Duration { return time.Duration(t.latency.Load()) }

// Router resolves models. It is built once at start-up; the environment is
// read then, so the hot path reads no environment variables.
type Router struct {
	cat     *catalog.Catalog
	getenv  func(string) string
	targets map[string][]*Target
	missing map[string][]string // model → key variables that would enable it
}

// Options tune the breakers and say where the catalog's variables are read.
type Options struct {
	BreakerThreshold int           // consecutive failures that open a breaker (default 5)
	BreakerCooldown  time.Duration // how long it stays open (default 30 s)
	// BreakerTrialLimit bounds a half-open trial whose end is never
	// reported (default router.DefaultTrialLimit); set it above the
	// longest an attempt may wait for its upstream.
	BreakerTrialLimit time.Duration
	Getenv            func(string) string // default os.Getenv
}

// New resolves every model's upstreams.
func New(cat *catalog.Catalog, o Options) *Router {
	if o.BreakerThreshold <= 0 {
		o.BreakerThreshold = 5
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = 30 * time.Second
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	r := &Router{cat: cat, getenv: o.Getenv, targets: map[string][]*Target{}, missing: map[string][]string{}}
	// One breaker per upstream endpoint, model and key: a model listed
	// twice shares it, but two keys (accounts) at one provider are rate
	// limited apart, and one's 429s must not keep the other out.
	breakers := map[string]*Breaker{}
	for _, m := range cat.Models {
		for i, u := range m.Upstreams {
			base := strings.TrimRight(catalog.Expand(u.BaseURL, o.Getenv), "/")
			// A key read from a file or a secret often ends in a line
			// break; no key has spaces around it, and a line break would
			// make an invalid header that the upstream client refuses.
			key := strings.TrimSpace(o.Getenv(u.KeyEnv))
			if base == "" || key == "" {
				r.missing[m.ID] = append(r.missing[m.ID], missingVars(u, key, o.Getenv)...)
				continue
			}
			bk := u.Provider + "|" + base + "|" + u.Model + "|" + u.KeyEnv
			b := breakers[bk]
			if b == nil {
				b = &Breaker{Threshold: o.BreakerThreshold, Cooldown: o.BreakerCooldown, TrialLimit: o.BreakerTrialLimit}
				breakers[bk] = b
			}
			params := u.SupportedParameters
			if len(params) == 0 {
				params = m.SupportedParameters
			}
			r.targets[m.ID] = append(r.targets[m.ID], &Target{Provider: u.Provider, Kind: u.Kind, BaseURL: base, Model: u.Model, APIKey: key, Breaker: b,
				Region: catalog.Expand(u.Region, o.Getenv), Policy: u.DataPolicy, Params: params, Index: i})
		}
	}
	return r
}

// missingVars names what would configure upstream u: its key variable,
// or, when the key is set, the base URL's unset variables (a base URL
// without a default, as Azure's).
func missingVars(u catalog.Upstream, key string, getenv func(string) string) []string {
	if key == "" {
		return []string{u.KeyEnv}
	}
	var out []string
	for _, v := range catalog.EnvRefs(u.BaseURL) {
		if getenv(v) == "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 { // the catalog's own base URL is empty
		out = append(out, u.KeyEnv)
	}
	return out
}

// CheckBaseURLs reports every upstream base URL that is not an http or
// https URL with a host, once each, named by the variables that set it (by
// the catalog's model and upstream when the catalog's own value is bad). An
// empty base URL is no problem: that upstream is not configured.
func CheckBaseURLs(cat *catalog.Catalog, getenv func(string) string) []error {
	var out []error
	seen := map[string]bool{}
	for _, m := range cat.Models {
		for _, u := range m.Upstreams {
			base := strings.TrimRight(catalog.Expand(u.BaseURL, getenv), "/")
			if base == "" || validBaseURL(base) {
				continue
			}
			msg := fmt.Sprintf("catalog: model %s, upstream %s: base URL %q", m.ID, u.Provider, base)
			if set := setVars(u.BaseURL, getenv); set != "" {
				msg = set
			}
			if !seen[msg] {
				seen[msg] = true
				out = append(out, fmt.Errorf("%s: want an http:// or https:// URL with a host", msg))
			}
		}
	}
	return out
}

func validBaseURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// setVars lists the variables template refers to that are set, as NAME="value".
func setVars(template string, getenv func(string) string) string {
	var set []string
	for _, v := range catalog.EnvRefs(template) {
		if val := getenv(v); val != "" {
			set = append(set, fmt.Sprintf("%s=%q", v, val))
		}
	}
	return strings.Join(set, ", ")
}

// Catalog returns the catalog the router was built from.
func (r *Router) Catalog() *catalog.Catalog { return r.cat }

// Region is where an upstream of the catalog processes requests, expanded
// as its targets' are.
func (r *Router) Region(u catalog.Upstream) string { return catalog.Expand(u.Region, r.getenv) }

// Targets returns the configured upstreams of a model in priority order
// (breakers are checked by the caller at attempt time), and the key variables
// of the upstreams that are not configured.
func (r *Router) Targets(model string) (targets []*Target, missingKeys []string) {
	return r.targets[model], r.missing[model]
}
