package commands

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

// ExportEndType is the type of a JSON Lines export's last line, its end
// record. An export cut short (a full disk, a killed command, a dropped
// download) lacks it, or has figures that do not match, so that it is
// never read back as a shorter history that looks whole.
const ExportEndType = "export.end"

// ExportEnd is an export's end record: how many events it holds, the last
// one's hash, and whether it is the whole history (no filter), whose
// events then link one to the next from the first.
type ExportEnd struct {
	Type         string `json:"type"`
	Events       uint64 `json:"events"`
	LastHash     string `json:"last_hash"`
	WholeHistory bool   `json:"whole_history"`
}

// ExportWriter writes an export: one audited event a line, then the end
// record.
type ExportWriter struct {
	enc *json.Encoder
	end ExportEnd
}

// NewExportWriter starts an export to w; whole says no filter was applied.
func NewExportWriter(w io.Writer, whole bool) *ExportWriter {
	return &ExportWriter{enc: json.NewEncoder(w), end: ExportEnd{Type: ExportEndType, WholeHistory: whole}}
}

// Write writes one event.
func (x *ExportWriter) Write(e *eventstore.RecordedEvent) error {
	a := Audited(e)
	if err := x.enc.Encode(a); err != nil {
		return err
	}
	x.end.Events++
	x.end.LastHash = a.Hash
	return nil
}

// Events is the count written so far.
func (x *ExportWriter) Events() uint64 { return x.end.Events }

// End writes the end record; an export is whole only once it is written.
func (x *ExportWriter) End() error { return x.enc.Encode(x.end) }

// ExportRead is what reading an export back found.
type ExportRead struct {
	Events   uint64
	LastHash string
	// Unmarked: the export has no end record (as releases before end
	// records wrote them), read so because the caller allowed it.
	Unmarked bool
	// WholeHistory: the end record says no filter was given, and the
	// events link one to the next from the first.
	WholeHistory bool
}

// ErrExportUnmarked is returned for an export without an end record.
var ErrExportUnmarked = errors.New("export has no end record")

// ReadExport reads an export back, passing each event to each (when not
// nil), and checks it is whole: every line an event, then the end record,
// last, whose count and hash match what came before. An export without an
// end record is refused with ErrExportUnmarked unless allowUnmarked.
func ReadExport(r io.Reader, allowUnmarked bool, each func(*AuditedEvent) error) (ExportRead, error) {
	var got ExportRead
	var end *ExportEnd
	var prevHash string
	linked := true // every event's prev_hash is the hash before it
	var lastPos eventstore.Position
	versions := map[string]uint64{} // each stream's last version
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if end != nil {
			return got, fmt.Errorf("line %d follows the end record: the export was written over or appended to", line)
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return got, fmt.Errorf("line %d is not a JSON record (%v): the export was cut short or damaged", line, err)
		}
		if head.Type == ExportEndType {
			end = &ExportEnd{}
			if err := json.Unmarshal(b, end); err != nil {
				return got, fmt.Errorf("line %d: end record: %v", line, err)
			}
			continue
		}
		var ev AuditedEvent
		if err := json.Unmarshal(b, &ev); err != nil || ev.ID == "" || ev.Hash == "" {
			return got, fmt.Errorf("line %d is not an exported event: the export was cut short or damaged", line)
		}
		if err := checkExportedHash(&ev); err != nil {
			return got, fmt.Errorf("line %d (position %s, %s@%d): %v: the event was edited, in the export or in the store before it was exported (events verify on the store tells which)", line, ev.Position, ev.Stream, ev.Version, err)
		}
		// An export is in the global order, each event once, and a
		// stream's versions rise: lines moved or repeated are refused
		// even where the filter leaves the events unlinked.
		pos, err := parseExportedPosition(ev.Position)
		if err != nil {
			return got, fmt.Errorf("line %d: %v: the export was damaged", line, err)
		}
		if got.Events > 0 && !lastPos.Less(pos) {
			return got, fmt.Errorf("line %d (position %s) does not follow position %s: events are out of order or repeated", line, ev.Position, lastPos)
		}
		if v, ok := versions[ev.Stream]; ok && ev.Version <= v {
			return got, fmt.Errorf("line %d (%s@%d) does not follow version %d of its stream: events are out of order or repeated", line, ev.Stream, ev.Version, v)
		}
		lastPos, versions[ev.Stream] = pos, ev.Version
		if ev.PrevHash != prevHash {
			linked = false
		}
		prevHash = ev.Hash
		got.Events++
		got.LastHash = ev.Hash
		if each != nil {
			if err := each(&ev); err != nil {
				return got, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return got, fmt.Errorf("line %d: %w", line+1, err)
	}
	if end == nil {
		if !allowUnmarked {
			return got, fmt.Errorf("%w (a line of type %q) after its %d events: it was cut short, or written by a release before end records", ErrExportUnmarked, ExportEndType, got.Events)
		}
		got.Unmarked = true
		return got, nil
	}
	if end.Events != got.Events {
		return got, fmt.Errorf("the end record counts %d events, the export holds %d: events are missing or were added", end.Events, got.Events)
	}
	if end.LastHash != got.LastHash {
		return got, fmt.Errorf("the end record names last hash %q, the last event's is %q: the export was edited", end.LastHash, got.LastHash)
	}
	if end.WholeHistory && !linked {
		return got, errors.New("the export is of the whole history but its events do not link by prev_hash: events are missing or were reordered")
	}
	got.WholeHistory = end.WholeHistory
	return got, nil
}

// checkExportedHash computes an exported event's chain hash again from its
// fields and its prev_hash, so that an event edited in the file is told
// even where links and the end record still agree.
func checkExportedHash(ev *AuditedEvent) error {
	prev, err := hex.DecodeString(ev.PrevHash)
	if err != nil {
		return fmt.Errorf("prev_hash is not hex")
	}
	hash, err := hex.DecodeString(ev.Hash)
	if err != nil {
		return fmt.Errorf("hash is not hex")
	}
	id, err := uuid.Parse(ev.ID)
	if err != nil {
		return fmt.Errorf("id %q is not a UUID", ev.ID)
	}
	e := eventstore.RecordedEvent{Stream: ev.Stream, Version: ev.Version, EventData: eventstore.EventData{ID: id, Type: ev.Type,
		SchemaVersion: ev.SchemaVersion, OccurredAt: ev.OccurredAt, Data: ev.Data}}
	if !bytes.Equal(eventstore.ChainHash(prev, &e), hash) {
		return errors.New("content does not match its hash")
	}
	return nil
}

// parseExportedPosition reads an exported position, commit/prepare.
func parseExportedPosition(s string) (eventstore.Position, error) {
	c, p, ok := strings.Cut(s, "/")
	cv, err1 := strconv.ParseUint(c, 10, 64)
	pv, err2 := strconv.ParseUint(p, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return eventstore.Position{}, fmt.Errorf("position %q is not commit/prepare", s)
	}
	return eventstore.Position{Commit: cv, Prepare: pv}, nil
}
