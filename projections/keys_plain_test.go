package projections

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// plainKeyFacts is a key as the test records it.
type plainKeyFacts struct {
	account, name, prefix, hash string
	revoked, disabled           bool
	management                  bool
	disables                    uint32    // times disabled
	expires                     time.Time // zero: never
}

// TestKeysAgreeWithAPlainModel folds random histories of keys issued (again,
// to another account, with the hash of another key), renamed, revoked,
// disabled and enabled, some with an expiry that a rename keeps, from a
// real SQLite file, and checks after every
// step every lookup by hash and every account's list of keys against a
// plain model of the same events: names, kept as indexes into one table of
// names, come back as they were given.
func TestKeysAgreeWithAPlainModel(t *testing.T) {
	if n := unsafe.Sizeof(keyEntry{}); n != 112 {
		t.Errorf("a key takes %d bytes, want 112", n)
	}
	base := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		m := NewModels(nil)
		s, r, done := rapidStore(rt, base, m.Keys)
		defer done()
		ctx := context.Background()
		ids := []string{"k1", "k2", "k3", "k4"}
		accounts := []string{"a", "b"}
		names := []string{"", "prod", "dev", "測試", "prod"}
		hashes := []string{keyHash("one"), keyHash("two"), keyHash("three"), "not-a-hex-sha"}
		plain := map[string]*plainKeyFacts{}
		byHash := map[string]string{} // hash → the key that answers it
		var issued []string           // key IDs in the order of their last issue
		seq := 0
		for range rapid.IntRange(1, 30).Draw(rt, "steps") {
			id := rapid.SampledFrom(ids).Draw(rt, "key")
			k := plain[id]
			var e domain.Event
			switch rapid.SampledFrom([]string{"issue", "issue", "rename", "revoke", "disable", "enable"}).Draw(rt, "step") {
			case "issue":
				ki := &domain.KeyIssued{KeyID: id, AccountID: rapid.SampledFrom(accounts).Draw(rt, "account"),
					Hash: rapid.SampledFrom(hashes).Draw(rt, "hash"), Prefix: "sk-rf-" + id + "…", Name: rapid.SampledFrom(names).Draw(rt, "name"),
					Management: rapid.Bool().Draw(rt, "management")}
				var expires time.Time
				if days := rapid.IntRange(0, 2).Draw(rt, "expiry"); days > 0 {
					expires = time.Date(2027, 1, days, 16, 0, 0, 0, time.UTC)
					ki.ExpiresAt = &expires
				}
				e = ki
				if k != nil && byHash[k.hash] == id {
					delete(byHash, k.hash)
				}
				plain[id] = &plainKeyFacts{account: ki.AccountID, name: ki.Name, prefix: ki.Prefix, hash: ki.Hash, management: ki.Management, expires: expires}
				byHash[ki.Hash] = id
				issued = append(slices.DeleteFunc(issued, func(x string) bool { return x == id }), id)
			case "rename":
				kc := &domain.KeyChanged{KeyID: id, Name: rapid.SampledFrom(names).Draw(rt, "name")}
				e = kc
				if k != nil {
					k.name = kc.Name
				}
			case "revoke":
				e = &domain.KeyRevoked{KeyID: id}
				if k != nil {
					k.revoked = true
				}
			case "disable":
				e = &domain.KeyDisabled{KeyID: id}
				if k != nil {
					if !k.disabled {
						k.disables++
					}
					k.disabled = true
				}
			case "enable":
				e = &domain.KeyEnabled{KeyID: id}
				if k != nil {
					k.disabled = false
				}
			}
			seq++
			if _, err := s.Append(ctx, domain.KeyStream(id), eventstore.Any(), mustEvent(t, e, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), fmt.Sprint(seq))); err != nil {
				rt.Fatal(err)
			}
			if err := r.CatchUp(ctx); err != nil {
				rt.Fatal(err)
			}
			for _, h := range hashes {
				info, ok := m.Keys.Lookup(h)
				want, wok := byHash[h]
				if ok != wok || ok && info.KeyID != want {
					rt.Fatalf("hash %.8s: key %q %v, want %q %v", h, info.KeyID, ok, want, wok)
				}
				if !ok {
					continue
				}
				k := plain[want]
				if info.Name != k.name || info.Prefix != k.prefix || info.AccountID != k.account || info.Revoked != k.revoked || info.Disabled != k.disabled ||
					info.Management != k.management || info.Disables != k.disables || !info.ExpiresAt.Equal(k.expires) {
					rt.Fatalf("key %s: %+v, want %+v", want, info, *k)
				}
			}
			for _, acct := range accounts {
				var got, want []string
				for _, info := range m.Keys.ByAccount(acct) {
					got = append(got, info.KeyID+" "+info.Name)
				}
				for _, id := range issued { // in the order of issue
					if k := plain[id]; k.account == acct {
						want = append(want, id+" "+k.name)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					rt.Fatalf("keys of %s: %q, want %q", acct, got, want)
				}
			}
		}
	})
}

// rapidStore opens a fresh SQLite store under base for one rapid case, and
// a runner of the projections on it; done closes the store and removes it.
func rapidStore(rt *rapid.T, base string, ps ...Projection) (*sqlite.Store, *Runner, func()) {
	dir, err := os.MkdirTemp(base, "fold-")
	if err != nil {
		rt.Fatal(err)
	}
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		os.RemoveAll(dir)
		rt.Fatal(err)
	}
	done := func() { s.Close(); os.RemoveAll(dir) }
	r, err := NewRunner(s, nil, ps...)
	if err != nil {
		done()
		rt.Fatal(err)
	}
	return s, r, done
}
