package console

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// slotReads is a store that counts the events read from key-slot streams.
type slotReads struct {
	eventstore.Store
	n atomic.Int64
}

func (s *slotReads) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	evs, err := s.Store.ReadStream(ctx, stream, from, max)
	if strings.HasPrefix(stream, domain.KeySlotsStream("")) {
		s.n.Add(int64(len(evs)))
	}
	return evs, err
}

// Each request to /api/v1/keys has a command handler of its own, yet
// creating a key reads only the key slots that changed since the last
// one: as many slot events after sixty keys made and deleted as after
// five.
func TestKeysAPIReadsOnlyTheSlotsChangedSinceTheLastKey(t *testing.T) {
	var reads *slotReads
	e := buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) {
		reads = &slotReads{Store: d.Store}
		d.Store = reads
	})
	e.openAccount("acct_reads", "讀取公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_reads", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	oneKey := func(name string) int64 {
		before := reads.n.Load()
		if code, _, b := e.keysRequest("POST", "/api/v1/keys", mgmt, map[string]any{"name": name}); code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, code, b)
		}
		return reads.n.Load() - before
	}
	churn(e, mgmt, 5)
	early := oneKey("early")
	churn(e, mgmt, 60)
	late := oneKey("late")
	if late > early {
		t.Fatalf("a key created after 60 more made and deleted read %d slot events, one after 5 read %d: the cost grows with the account's history", late, early)
	}
}
