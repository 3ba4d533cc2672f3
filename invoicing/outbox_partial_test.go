package invoicing

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A document that cannot be built (here a void stored, by an older
// release, as made before its invoice was issued) does not keep the other
// documents from Turnkey: they are written, and the run reports the one it
// could not write, by number, as an error.
func TestOutboxWritesEveryDocumentItCan(t *testing.T) {
	e, _, acme, solo := raceEnv(t)
	e.appendRaw(solo, "void", solo.IssuedAt.Add(-1e9), &domain.InvoiceVoided{Number: solo.Number, Reason: "開立錯誤"})
	svc := e.newService()
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := svc.Outbox(e.ctx, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), solo.Number) {
		t.Fatalf("outbox error %v; want one naming %s", err, solo.Number)
	}
	if len(rep.Written) != 2 { // the two F0401s; the F0501 cannot be built
		t.Fatalf("outbox wrote %v, want both invoices' F0401", rep.Written)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Number != solo.Number || rep.Failed[0].Message != MessageF0501 {
		t.Fatalf("failed documents %+v; want the F0501 of %s", rep.Failed, solo.Number)
	}
	_ = acme
}
