package eventstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// ChainHash is the hash an event carries: SHA-256 over its predecessor's
// hash and every stored field of the event. Editing any stored field of any
// event breaks the chain from that event on.
func ChainHash(prev []byte, e *RecordedEvent) []byte {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field(prev)
	field([]byte(e.Stream))
	binary.BigEndian.PutUint64(n[:], e.Version)
	h.Write(n[:])
	field(e.ID[:])
	field([]byte(e.Type))
	binary.BigEndian.PutUint64(n[:], uint64(e.SchemaVersion))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.OccurredAt.UTC().UnixNano()))
	h.Write(n[:])
	field(e.Data)
	return h.Sum(nil)
}

// ChainBreak names the first event whose hash does not verify.
type ChainBreak struct {
	Position Position
	Stream   string
	Version  uint64
	Reason   string
}

func (b *ChainBreak) Error() string {
	return fmt.Sprintf("hash chain broken at position %s (%s@%d): %s", b.Position, b.Stream, b.Version, b.Reason)
}

// VerifyResult is the verdict of a full chain check.
type VerifyResult struct {
	Events uint64
	Head   []byte
	Last   Position
	Break  *ChainBreak // nil when the chain verifies
}

// StoredReader is a Reader that serves recent events from memory and can
// also read what its storage actually holds. Verify reads that way, so a
// check of the chain is a check of the file or database.
type StoredReader interface {
	ReadAllStored(ctx context.Context, from Position, max int) ([]RecordedEvent, error)
}

// Verify reads the whole history in global order and checks every link.
// progress, when set, is called after each batch with the count so far.
func Verify(ctx context.Context, r Reader, progress func(n uint64)) (VerifyResult, error) {
	var res VerifyResult
	var prev []byte
	pos := Start
	read := r.ReadAll
	if sr, ok := r.(StoredReader); ok {
		read = sr.ReadAllStored
	}
	for {
		evs, err := read(ctx, pos, 5000)
		if err != nil {
			return res, err
		}
		if len(evs) == 0 {
			return res, nil
		}
		for i := range evs {
			e := &evs[i]
			if !bytes.Equal(e.PrevHash, prev) {
				res.Break = &ChainBreak{e.Position, e.Stream, e.Version, "previous hash does not match its predecessor"}
				return res, nil
			}
			want := ChainHash(prev, e)
			if !bytes.Equal(e.Hash, want) {
				res.Break = &ChainBreak{e.Position, e.Stream, e.Version, "content does not match its hash"}
				return res, nil
			}
			prev = e.Hash
			res.Events++
			res.Head = e.Hash
			res.Last = e.Position
		}
		pos = evs[len(evs)-1].Position
		if progress != nil {
			progress(res.Events)
		}
	}
}
