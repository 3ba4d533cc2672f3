package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// An operator moves a key's expiry from the CLI beside two running serves
// on one store: both refuse the key once the new instant has passed, and
// serve it again once the expiry is cleared; the change is an event naming
// the operating-system user.
func TestKeysExpireBesideTwoServes(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "until when", Usage: providertest.Usage{Prompt: 10, Completion: 10}})
	dir := t.TempDir()
	env := append(baseEnv(up), "ROUTEFREE_DATA_DIR="+dir)
	rurl, prefix := testenv.RedisURL(t)
	shared := []string{"--redis-url", rurl, "--redis-prefix", prefix}
	a := startServe(t, env, append([]string{"--bootstrap-demo"}, shared...)...)
	b := startServe(t, env, shared...)
	out := runCLI(t, env, "keys", "issue", "--account", "acct_demo", "--name", "contractor", "--expires", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	m := regexp.MustCompile(`key id: (\S+)\nkey:\s+(sk-rf-\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("keys issue: %s", out)
	}
	id, key := m[1], m[2]
	for _, p := range []*proc{a, b} {
		within(t, time.Now(), 10*time.Second, "the new key served", func() bool { return chatStatus(p.base, key) == http.StatusOK })
	}
	refusedCLI(t, "must be in the future", "keys", "expire", "--key", id, "--at", time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "--data-dir", dir)
	refusedCLI(t, "--at or --never", "keys", "expire", "--key", id, "--data-dir", dir)

	// Sooner: three seconds from now.
	soon := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second)
	if out := runCLI(t, env, "keys", "expire", "--key", id, "--at", soon.Format(time.RFC3339)); !strings.Contains(out, id+" expires at "+soon.Format(time.RFC3339)) {
		t.Fatalf("keys expire --at: %s", out)
	}
	for _, p := range []*proc{a, b} {
		within(t, time.Now(), 15*time.Second, "the key refused at its moved expiry", func() bool { return chatStatus(p.base, key) == http.StatusUnauthorized })
	}
	if out := runCLI(t, env, "keys", "expire", "--key", id, "--never"); !strings.Contains(out, id+" never expires") {
		t.Fatalf("keys expire --never: %s", out)
	}
	for _, p := range []*proc{a, b} {
		within(t, time.Now(), 10*time.Second, "the key served with its expiry cleared", func() bool { return chatStatus(p.base, key) == http.StatusOK })
	}

	s, err := sqlite.Open(dir+"/events.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.ReadStream(context.Background(), domain.KeyStream(id), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actors []domain.Actor
	for _, e := range evs {
		if e.Type == domain.TypeKeyExpiryChanged {
			var c domain.KeyExpiryChanged
			if err := json.Unmarshal(e.Data, &c); err != nil {
				t.Fatal(err)
			}
			actors = append(actors, c.Actor)
		}
	}
	if len(actors) != 2 || actors[0].Kind != domain.ActorCLI || actors[0].ID == "" {
		t.Fatalf("expiry changes' actors: %+v", actors)
	}
}
