package console

import (
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// Every action the README's role table lets a caller do records that
// caller as its events' actor: the staff token with its role, or the key,
// through the admin API, the console's forms and the invoicing API alike.
// What the probes set up beforehand (a fresh account, invoice or token)
// is recorded under an actor of its own, so that an event naming nobody
// (an edge that forgot to name its caller) or someone else is caught.
func TestRoleTableActionsNameTheirCaller(t *testing.T) {
	cols, rows, order := readRoleTable(t)
	r := newRoles(t)
	setUp := domain.Actor{Kind: domain.ActorSystem, ID: "test set-up"}
	r.ctx = domain.WithActor(r.ctx, setUp)
	caller := map[string]domain.Actor{}
	for col, secret := range r.secret {
		if st, ok := r.views.StaffByHash(commands.HashKey(secret)); ok {
			caller[col] = domain.Actor{Kind: domain.ActorStaff, ID: st.ID, Role: st.Role}
		} else if k, ok := r.models.Keys.Lookup(commands.HashKey(secret)); ok {
			caller[col] = domain.Actor{Kind: domain.ActorKey, ID: k.KeyID}
		} else {
			t.Fatalf("%s: no staff token or key of its secret", col)
		}
	}
	pos := eventstore.Start
	for {
		evs, err := r.store.ReadAll(r.ctx, pos, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		pos = evs[len(evs)-1].Position
	}
	named := 0
	for _, row := range order {
		for _, col := range cols {
			if !rows[row][col] {
				continue
			}
			for _, p := range probes[row] {
				p.do(r, col)
				r.sync()
				evs, err := r.store.ReadAll(r.ctx, pos, 100000)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range evs {
					pos = ev.Position
					a, ok := domain.ActorOf(ev.Type, ev.SchemaVersion, ev.Data)
					switch {
					case !ok:
						t.Errorf("%s as %s: %s does not decode", p.what, col, ev.Type)
					case a == caller[col]:
						named++
					case a != setUp:
						t.Errorf("%s as %s: %s records %v, want %v", p.what, col, ev.Type, a, caller[col])
					}
				}
			}
		}
	}
	if named == 0 {
		t.Fatal("no action recorded an event naming its caller")
	}
}
