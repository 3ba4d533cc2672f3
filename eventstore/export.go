package eventstore

import (
	"encoding/hex"
	"encoding/json"
	"time"
)

// Filter selects events by stream, type and time of occurrence; empty
// fields select everything, Until is exclusive.
type Filter struct {
	Stream string
	Type   string
	Since  time.Time
	Until  time.Time
}

// Match reports whether e passes the filter.
func (f Filter) Match(e *RecordedEvent) bool {
	return (f.Stream == "" || e.Stream == f.Stream) && (f.Type == "" || e.Type == f.Type) &&
		(f.Since.IsZero() || !e.OccurredAt.Before(f.Since)) && (f.Until.IsZero() || e.OccurredAt.Before(f.Until))
}

// Exported is an event as auditors read it (JSON Lines exports, the audit
// API): every stored field, hashes in hex.
type Exported struct {
	Position      string          `json:"position"`
	Stream        string          `json:"stream"`
	Version       uint64          `json:"version"`
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	OccurredAt    time.Time       `json:"occurred_at"`
	Data          json.RawMessage `json:"data"`
	PrevHash      string          `json:"prev_hash"`
	Hash          string          `json:"hash"`
}

// Export returns e in its exported shape. A body that is not JSON (a
// tampered one, say) is exported as a JSON string, so the export stays valid.
func Export(e *RecordedEvent) Exported {
	data := json.RawMessage(e.Data)
	if !json.Valid(data) {
		data, _ = json.Marshal(string(e.Data))
	}
	return Exported{Position: e.Position.String(), Stream: e.Stream, Version: e.Version, ID: e.ID.String(), Type: e.Type,
		SchemaVersion: e.SchemaVersion, OccurredAt: e.OccurredAt.UTC(), Data: data,
		PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
}
