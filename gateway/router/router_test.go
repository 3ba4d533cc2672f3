package router

import (
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/catalog"
)

func TestTargetsFollowPriorityAndConfiguration(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GROQ_API_KEY": "g", "FIREWORKS_API_KEY": " f\r\n", "TOGETHER_API_KEY": " \n", "FIREWORKS_BASE_URL": "http://127.0.0.1:1/v1/"}
	r := New(cat, Options{Getenv: func(k string) string { return env[k] }})
	ts, missing := r.Targets("meta-llama/llama-3.3-70b-instruct")
	if len(ts) != 2 || ts[0].Provider != "groq" || ts[1].Provider != "fireworks" {
		t.Fatalf("targets = %+v", ts)
	}
	if ts[1].BaseURL != "http://127.0.0.1:1/v1" || ts[1].APIKey != "f" {
		t.Fatalf("fireworks target not resolved from env (its key trimmed): %+v", ts[1])
	}
	if len(missing) != 1 || missing[0] != "TOGETHER_API_KEY" {
		t.Fatalf("missing = %v", missing)
	}
	if ts, missing := r.Targets("openai/gpt-4.1"); len(ts) != 0 || missing[0] != "OPENAI_API_KEY" {
		t.Fatalf("unconfigured model: %v %v", ts, missing)
	}
}

// allowed is Allow's answer, the permit left unended.
func allowed(b *Breaker, now time.Time) bool {
	_, ok := b.Allow(now)
	return ok
}

func TestBreakerOpensCoolsDownAndCloses(t *testing.T) {
	b := &Breaker{Threshold: 3, Cooldown: time.Minute}
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if !allowed(b, now) {
			t.Fatalf("closed breaker refused attempt %d", i)
		}
		b.Failure(now)
	}
	if allowed(b, now.Add(time.Second)) || b.State(now) != Open {
		t.Fatal("breaker should be open after 3 failures")
	}
	later := now.Add(2 * time.Minute)
	if !allowed(b, later) {
		t.Fatal("half-open breaker should allow one trial")
	}
	if allowed(b, later) {
		t.Fatal("half-open breaker allowed a second concurrent trial")
	}
	b.Failure(later)
	if allowed(b, later.Add(time.Second)) {
		t.Fatal("failed trial should reopen the breaker")
	}
	b.Success()
	if !allowed(b, later) || b.State(later) != Closed {
		t.Fatal("success should close the breaker")
	}
}

// A breaker opened by rate limits alone says so, and names the later of its
// cooldown's end and the upstream's own retry time; one failure of another
// kind in the run makes it an ordinary outage.
func TestBreakerCoolingAfterRateLimits(t *testing.T) {
	b := &Breaker{Threshold: 2, Cooldown: time.Minute}
	now := time.Unix(1000, 0)
	b.RateLimited(now, now.Add(90*time.Second))
	b.RateLimited(now, time.Time{})
	if allowed(b, now) {
		t.Fatal("two rate limits should open the breaker")
	}
	if limited, until := b.Cooling(); !limited || !until.Equal(now.Add(90*time.Second)) {
		t.Fatalf("cooling: %v until %v", limited, until)
	}
	b.Success()
	b.RateLimited(now, now.Add(time.Second))
	b.Failure(now)
	if limited, until := b.Cooling(); limited || !until.Equal(now.Add(time.Minute)) {
		t.Fatalf("after a 429 and an outage: %v until %v", limited, until)
	}
	b.Success()
	b.Failure(now)
	b.RateLimited(now, time.Time{})
	if limited, _ := b.Cooling(); limited {
		t.Fatal("an outage then a 429 is not rate limits alone")
	}
}

// The smoothed latency starts at the first answer and then moves a
// quarter of the way to each new one.
func TestTargetLatency(t *testing.T) {
	var tg Target
	if tg.Latency() != 0 {
		t.Fatal("latency before any answer")
	}
	tg.Observe(100 * time.Millisecond)
	if tg.Latency() != 100*time.Millisecond {
		t.Fatalf("first: %s", tg.Latency())
	}
	tg.Observe(500 * time.Millisecond)
	if tg.Latency() != 200*time.Millisecond {
		t.Fatalf("second: %s", tg.Latency())
	}
}

// A base URL the environment sets must be an http or https URL with a
// host; each bad one is named once by its variable.
func TestCheckBaseURLsNamesTheVariable(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ROUTEFREE_FAKE_UPSTREAM_URL": "::not a url", "OPENAI_BASE_URL": "ftp//x",
		"ANTHROPIC_BASE_URL": "ftp://host/v1", "GROQ_BASE_URL": "http:///v1", "FIREWORKS_BASE_URL": "http://127.0.0.1:1/v1/"}
	problems := CheckBaseURLs(cat, func(k string) string { return env[k] })
	var text []string
	for _, p := range problems {
		text = append(text, p.Error())
	}
	all := strings.Join(text, "\n")
	for _, v := range []string{"ROUTEFREE_FAKE_UPSTREAM_URL", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GROQ_BASE_URL"} {
		if strings.Count(all, v+"=") != 1 {
			t.Errorf("%s named %d times:\n%s", v, strings.Count(all, v+"="), all)
		}
	}
	if len(problems) != 4 || !strings.Contains(all, `OPENAI_BASE_URL="ftp//x": want an http:// or https:// URL with a host`) {
		t.Fatalf("problems:\n%s", all)
	}
	if p := CheckBaseURLs(cat, func(string) string { return "" }); len(p) != 0 {
		t.Fatalf("the catalog's own base URLs: %v", p)
	}
}

// An upstream that answered 429 with a Retry-After later than the
// cooldown is not tried before that time: the client was told to wait
// that long, and the upstream would refuse again.
func TestBreakerWaitsForRetryAfter(t *testing.T) {
	b := &Breaker{Threshold: 1, Cooldown: time.Minute}
	now := time.Unix(1000, 0)
	b.RateLimited(now, now.Add(90*time.Second))
	after := now.Add(61 * time.Second)
	if allowed(b, after) {
		t.Fatal("tried again after the cooldown but before the upstream's Retry-After")
	}
	if s := b.State(after); s != Open {
		t.Fatalf("state before the Retry-After: %s", s)
	}
	if !allowed(b, now.Add(90*time.Second)) {
		t.Fatal("not tried again at the Retry-After")
	}
}

// A half-open trial keeps the upstream to itself for as long as it runs,
// however much longer than the cooldown; one that ends without an outcome
// (the client left) frees it for the next trial at once, and one whose end
// never comes keeps it out no longer than TrialLimit.
func TestBreakerOneTrialUntilItEnds(t *testing.T) {
	b := &Breaker{Threshold: 1, Cooldown: time.Minute, TrialLimit: 11 * time.Minute}
	now := time.Unix(1000, 0)
	b.Failure(now)
	trial := now.Add(time.Minute)
	p, ok := b.Allow(trial)
	if !ok {
		t.Fatal("no trial after the cooldown")
	}
	if allowed(b, trial.Add(10*time.Minute)) {
		t.Fatal("a second trial while the first still waits for its upstream")
	}
	p.End()
	p2, ok := b.Allow(trial.Add(10 * time.Minute))
	if !ok {
		t.Fatal("a trial that ended without an outcome still keeps the upstream out")
	}
	p.End() // the first trial's permit, ended again, frees nothing
	if allowed(b, trial.Add(10*time.Minute)) {
		t.Fatal("an earlier trial's permit freed the one under way")
	}
	_ = p2 // never ended: the bound frees the upstream
	if allowed(b, trial.Add(20*time.Minute)) {
		t.Fatal("freed before the trial limit")
	}
	if !allowed(b, trial.Add(21*time.Minute)) {
		t.Fatal("the upstream stays out for good after a trial that never ended")
	}
	// An outcome reported before the end: the permit's end changes nothing.
	b.Failure(now)
	p3, _ := b.Allow(now.Add(time.Minute))
	b.Success()
	p3.End()
	if b.State(now) != Closed || !allowed(b, now) {
		t.Fatal("a trial's success should close the breaker")
	}
}

// Two upstreams of one model at the same provider, endpoint and model
// but with different keys (two accounts, to spread rate limits) cool
// down apart: one key's 429s do not keep the other key out.
func TestBreakerPerKey(t *testing.T) {
	cat, err := catalog.Parse([]byte(`{"usd_to_ntd":"32.5","margin":"0.05","models":[{"id":"acme/duo","usd_per_million":{"input":"1","output":"2"},"upstreams":[
		{"provider":"openai","kind":"openai","base_url":"http://127.0.0.1:1/v1","model":"duo","key_env":"KEY_A"},
		{"provider":"openai","kind":"openai","base_url":"http://127.0.0.1:1/v1","model":"duo","key_env":"KEY_B"}]},
		{"id":"acme/alias","usd_per_million":{"input":"1","output":"2"},"upstreams":[
		{"provider":"openai","kind":"openai","base_url":"http://127.0.0.1:1/v1","model":"duo","key_env":"KEY_A"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KEY_A": "a", "KEY_B": "b"}
	r := New(cat, Options{BreakerThreshold: 1, Getenv: func(k string) string { return env[k] }})
	ts, _ := r.Targets("acme/duo")
	if len(ts) != 2 {
		t.Fatalf("targets = %+v", ts)
	}
	now := time.Unix(1000, 0)
	ts[0].Breaker.RateLimited(now, now.Add(time.Minute))
	if !allowed(ts[1].Breaker, now) {
		t.Fatal("key B kept out by key A's rate limit")
	}
	if alias, _ := r.Targets("acme/alias"); alias[0].Breaker != ts[0].Breaker {
		t.Fatal("the same upstream and key under another model should share its breaker")
	}
}

// An upstream whose key is set but whose base URL is not (Azure's has no
// default) is named by the base URL's variable: telling the operator to
// set the key they have set leaves them nowhere.
func TestMissingNamesTheUnsetBaseURL(t *testing.T) {
	cat, err := catalog.Parse([]byte(`{"usd_to_ntd":"32.5","margin":"0.05","models":[{"id":"acme/one","usd_per_million":{"input":"1","output":"2"},"upstreams":[
		{"provider":"openai","kind":"openai","base_url":"${OAI_BASE:-https://api.openai.com/v1}","model":"one","key_env":"OAI_KEY"},
		{"provider":"azure","kind":"openai","base_url":"${AZ_BASE:-}","model":"one","key_env":"AZ_KEY"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AZ_KEY": "a"}
	r := New(cat, Options{Getenv: func(k string) string { return env[k] }})
	if ts, missing := r.Targets("acme/one"); len(ts) != 0 || strings.Join(missing, ",") != "OAI_KEY,AZ_BASE" {
		t.Fatalf("targets %v, missing %v; want none and OAI_KEY,AZ_BASE", ts, missing)
	}
}
