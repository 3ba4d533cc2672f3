package commands

import (
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// AuditedEvent is an event as auditors read it (events export, the audit
// page and API): every stored field, and who caused it. Actor is the
// recorded actor of a command event (unknown for those recorded before
// events named one), the key of a request event; nil for a body that does
// not decode.
type AuditedEvent struct {
	eventstore.Exported
	Actor *domain.Actor `json:"actor,omitempty"`
}

// Audited returns e in its audited shape.
func Audited(e *eventstore.RecordedEvent) AuditedEvent {
	out := AuditedEvent{Exported: eventstore.Export(e)}
	if a, ok := domain.ActorOf(e.Type, e.SchemaVersion, e.Data); ok {
		out.Actor = &a
	}
	return out
}
