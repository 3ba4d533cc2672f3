package storetest

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

// Vector is one event of the hash chain's known-answer sequence: appended in
// order to an empty store, it lands in Stream at Version and carries Hash.
type Vector struct {
	Stream  string
	Version uint64
	Event   eventstore.EventData
	Hash    string // hex SHA-256, computed once and written down
}

var kat0 = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

// Vectors is the known-answer sequence. The hashes were computed once, and
// checked against a separate implementation of the formula documented on
// eventstore.ChainHash (SHA-256 over the length-prefixed previous hash,
// stream, big-endian version, ID, type, schema version, Unix nanoseconds
// and data); they are literals: a change to what the
// hash covers (a field dropped, reordered or encoded differently) fails
// every backend's contract and eventstore's own test. Never recompute them
// to make a test pass; a deliberate change of formula breaks every
// existing history's verification and needs a migration.
var Vectors = []Vector{
	{"account-acct_kat", 0, eventstore.EventData{ID: uuid.MustParse("0190f3a0-0000-7000-8000-000000000001"), Type: "account.opened", SchemaVersion: 1,
		OccurredAt: kat0, Data: []byte(`{"account_id":"acct_kat","organisation":"範例股份有限公司"}`)},
		"010cfebb8ac32c8f7a9219da3c2f92f98fe41b27176eb611748073e059f2a8f1"},
	{"account-acct_kat", 1, eventstore.EventData{ID: uuid.MustParse("0190f3a0-0000-7000-8000-000000000002"), Type: "credits.topped_up", SchemaVersion: 2,
		OccurredAt: kat0.Add(time.Second), Data: []byte(`{"account_id":"acct_kat","amount":"5000"}`)},
		"21f2be21900cc2e6410af3a2463157bfa57c6a12635f40d73187aa203c439c39"},
	{"usage-acct_kat", 0, eventstore.EventData{ID: uuid.MustParse("0190f3a0-0000-7000-8000-000000000003"), Type: "request.completed", SchemaVersion: 1,
		OccurredAt: kat0.Add(90 * time.Second), Data: []byte(`{"request_id":"gen-kat","cost":"0.012345"}`)},
		"0e906753bbdd4d653ac7aa6f718802a308fb9825aaca0003fb8c66dae2e34f36"},
	{"usage-acct_kat", 1, eventstore.EventData{ID: uuid.MustParse("0190f3a0-0000-7000-8000-000000000004"), Type: "request.completed", SchemaVersion: 1,
		OccurredAt: kat0.Add(91 * time.Second), Data: []byte(`{"request_id":"gen-kat-2","cost":"0"}`)},
		"c1714053c150264e7c560714aa1feff1977a1e6fa2526237980f64065df9a814"},
}

// testKnownHashes appends the known-answer sequence to an empty store and
// requires the stored chain to carry exactly the written-down hashes.
func testKnownHashes(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	for _, v := range Vectors {
		res := on(t, s).Append(v.Stream, eventstore.Any(), v.Event)
		if res.NextExpectedVersion != v.Version {
			t.Fatalf("%s landed at version %d, want %d", v.Event.ID, res.NextExpectedVersion, v.Version)
		}
	}
	all := readAllOf(t, s, len(Vectors))
	if len(all) != len(Vectors) {
		t.Fatalf("store holds %d events, want %d", len(all), len(Vectors))
	}
	prev := ""
	for i, e := range all {
		v := Vectors[i]
		if e.ID != v.Event.ID || e.Stream != v.Stream || e.Version != v.Version {
			t.Fatalf("event %d is %s %s@%d, want %s %s@%d", i, e.ID, e.Stream, e.Version, v.Event.ID, v.Stream, v.Version)
		}
		if got := hex.EncodeToString(e.PrevHash); got != prev {
			t.Fatalf("event %d: previous hash %s, want %s", i, got, prev)
		}
		if got := hex.EncodeToString(e.Hash); got != v.Hash {
			t.Fatalf("%s: stored hash %s, known answer %s", f.Name, got, v.Hash)
		}
		prev = v.Hash
	}
	verify(t, s)
}
