package projections

import (
	"context"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// A key's count of disables, which ends its console sessions when it
// changes, was kept in 8 bits: the 256th disable brought it back to 0. It
// counts on past 256, and the key's flags (management, disabled, revoked)
// stay as the events left them beside it.
func TestKeyDisablesCountPast256(t *testing.T) {
	k := NewKeys()
	var pos uint64
	apply := func(body domain.Event) {
		t.Helper()
		pos++
		ev := Event{RecordedEvent: eventstore.RecordedEvent{Position: eventstore.Position{Commit: pos, Prepare: pos}}, Body: body}
		if err := k.Apply(context.Background(), []Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	h := keyHash("disabled-often")
	apply(&domain.KeyIssued{KeyID: "key_often", AccountID: "acct", Hash: h, Prefix: "sk-rf-often", Name: "ops", Management: true})
	for i := 1; i <= 300; i++ {
		apply(&domain.KeyDisabled{KeyID: "key_often"})
		apply(&domain.KeyDisabled{KeyID: "key_often"}) // already disabled: not counted again
		if info, _ := k.Lookup(h); !info.Disabled || int(info.Disables) != i || !info.Management {
			t.Fatalf("after disable %d: %+v", i, info)
		}
		apply(&domain.KeyEnabled{KeyID: "key_often"})
	}
	info, _ := k.Lookup(h)
	if info.Disabled || int(info.Disables) != 300 || !info.Management || info.Revoked {
		t.Fatalf("after 300 disables and enables: %+v, want enabled, 300 disables, a management key", info)
	}
	apply(&domain.KeyRevoked{KeyID: "key_often"})
	if info, _ := k.Lookup(h); !info.Revoked || int(info.Disables) != 300 || !info.Management {
		t.Fatalf("revoked: %+v", info)
	}
}
