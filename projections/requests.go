package projections

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// RequestFact is what GET /api/v1/generation?id= shows of one request: the
// facts of its request.completed or request.failed event.
type RequestFact struct {
	RequestID    string
	Failed       bool // a request.failed event
	KeyID        string
	AccountID    string
	Model        string
	Provider     string
	Upstream     string
	Usage        domain.Usage
	Cost         decimal.Decimal
	PriceList    int
	StartedAt    time.Time
	LatencyMs    int64
	TTFBMs       int64
	Stream       bool
	Outcome      string
	FinishReason string
	// NativeFinishReason is the provider's own reason where it differs
	// from FinishReason; "" otherwise.
	NativeFinishReason string
	Attempts           int
	Status             int    // failed requests: the HTTP status returned
	Reason             string // failed requests
	AppReferer         string
	AppTitle           string
}

// requestRec is a RequestFact packed for millions of entries: repeated
// strings become indexes into one table, the cost an int64 coefficient and
// exponent, times Unix nanoseconds.
type requestRec struct {
	in, out, cached, reasoning       int64
	costCoef                         int64
	startedAt                        int64
	str                              [10]uint32 // key, account, model, provider, upstream, outcome, finish, referer, title, and reason (failed) or native finish (completed)
	costExp                          int32
	latency, ttfb                    uint32
	priceList                        int32
	status                           int16
	uuid                             [16]byte // with idForm, the request's reqID (fields ordered to fill 128 bytes)
	idForm                           uint8
	attempts                         uint8
	stream, failed, estimated, bigCo bool
}

func (r *requestRec) id() reqID { return reqID{uuid: r.uuid, form: r.idForm} }

// reqID is a request ID as the index keeps it: the 16 bytes of the UUID of
// the gateway's IDs ("gen-" and 32 lowercase hex digits) or of "gen-" and a
// lowercase dashed UUID, rather than a string of 36 or 40 bytes. Any other
// ID has the form idOther and is kept as a string beside.
type reqID struct {
	uuid [16]byte
	form uint8
}

// Forms of a reqID; the zero form marks an unused record.
const (
	idNone uint8 = iota
	idOther
	idHex
	idDashed
)

func parseReqID(s string) reqID {
	rest, ok := strings.CutPrefix(s, "gen-")
	var id reqID
	switch {
	case !ok:
	case len(rest) == 32 && lowerHexTo(id.uuid[:], rest):
		id.form = idHex
		return id
	case len(rest) == 36 && rest[8] == '-' && rest[13] == '-' && rest[18] == '-' && rest[23] == '-' &&
		lowerHexTo(id.uuid[:4], rest[:8]) && lowerHexTo(id.uuid[4:6], rest[9:13]) && lowerHexTo(id.uuid[6:8], rest[14:18]) &&
		lowerHexTo(id.uuid[8:10], rest[19:23]) && lowerHexTo(id.uuid[10:], rest[24:]):
		id.form = idDashed
		return id
	}
	return reqID{form: idOther}
}

// lowerHexTo decodes lowercase hex digits only (uppercase ones would name
// another ID).
func lowerHexTo(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

const recChunk = 8192

// DefaultRequestCapacity is how many recent requests the index keeps (about
// 10 MB: 128-byte records and their index): memory stays flat however long
// the gateway runs. Older requests are read from the store by their event ID.
// It is a twentieth of the memory budget: a minute of requests at a
// thousand a second, for the clients that ask for a request's figures right
// after it.
const DefaultRequestCapacity = 8 * recChunk

// Requests indexes the most recent requests by ID. Records live in
// fixed-size chunks used as a ring: once full, the oldest record is reused.
type Requests struct {
	memCheckpoint
	capacity uint32
	mu       sync.RWMutex
	index    map[reqID]uint32  // IDs of the UUID forms
	others   map[string]uint32 // any other ID
	otherIDs map[uint32]string // the ID of each record of the other form
	chunks   [][]requestRec
	n        uint32
	strs     strTable                   // every string field's values, once each; index 0 is ""
	bigCost  map[uint32]decimal.Decimal // costs whose coefficient does not fit an int64
}

var _ Projection = (*Requests)(nil)

// NewRequests returns an empty request index.
func NewRequests() *Requests {
	return &Requests{capacity: DefaultRequestCapacity, index: map[reqID]uint32{}, others: map[string]uint32{},
		otherIDs: map[uint32]string{}, strs: strTable{strs: []string{""}, idx: map[string]uint32{"": 0}}, bigCost: map[uint32]decimal.Decimal{}}
}

// Name implements Projection.
func (q *Requests) Name() string { return "requests" }

// Len is the number of requests indexed.
func (q *Requests) Len() int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return len(q.index) + len(q.others)
}

// find returns the record number of a request ID.
func (q *Requests) find(id reqID, s string) (uint32, bool) {
	if id.form == idOther {
		i, ok := q.others[s]
		return i, ok
	}
	i, ok := q.index[id]
	return i, ok
}

// Get returns the facts of one request.
func (q *Requests) Get(requestID string) (RequestFact, bool) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	i, ok := q.find(parseReqID(requestID), requestID)
	if !ok {
		return RequestFact{}, false
	}
	r := &q.chunks[i/recChunk][i%recChunk]
	s := func(k int) string { return q.strs.at(r.str[k]) }
	f := RequestFact{
		RequestID: requestID, Failed: r.failed, KeyID: s(0), AccountID: s(1), Model: s(2), Provider: s(3),
		Upstream: s(4), Outcome: s(5), FinishReason: s(6), AppReferer: s(7), AppTitle: s(8),
		Usage:     domain.Usage{Input: r.in, Output: r.out, Cached: r.cached, Reasoning: r.reasoning, Estimated: r.estimated},
		Cost:      decimal.New(r.costCoef, r.costExp),
		PriceList: int(r.priceList), LatencyMs: int64(r.latency), TTFBMs: int64(r.ttfb),
		Stream: r.stream, Attempts: int(r.attempts), Status: int(r.status),
	}
	if r.failed {
		f.Reason = s(9)
	} else {
		f.NativeFinishReason = s(9)
	}
	if r.bigCo {
		f.Cost = q.bigCost[i]
	}
	f.StartedAt = fromUnixNano(r.startedAt)
	return f, true
}

// FactOf returns the facts of a request.completed or request.failed event.
func FactOf(e domain.Event) (RequestFact, bool) {
	switch v := e.(type) {
	case *domain.RequestCompleted:
		return RequestFact{RequestID: v.RequestID, KeyID: v.KeyID, AccountID: v.AccountID, Model: v.Model,
			Provider: v.Provider, Upstream: v.Upstream, Usage: v.Usage, Cost: v.Cost, PriceList: v.PriceList,
			StartedAt: v.StartedAt, LatencyMs: v.LatencyMs, TTFBMs: v.TTFBMs, Stream: v.Stream, Outcome: v.Outcome,
			FinishReason: v.FinishReason, NativeFinishReason: v.NativeFinishReason, Attempts: v.Attempts,
			AppReferer: v.AppReferer, AppTitle: v.AppTitle}, true
	case *domain.RequestFailed:
		return RequestFact{RequestID: v.RequestID, Failed: true, KeyID: v.KeyID, AccountID: v.AccountID, Model: v.Model,
			Provider: v.Provider, StartedAt: v.StartedAt, LatencyMs: v.LatencyMs, Stream: v.Stream, Outcome: v.Outcome,
			Attempts: v.Attempts, Status: v.Status, Reason: v.Reason}, true
	}
	return RequestFact{}, false
}

func (q *Requests) intern(s string) uint32 { return q.strs.index(s) }

// slot returns the record of a request ID, adding it when new.
func (q *Requests) slot(s string) (uint32, *requestRec) {
	id := parseReqID(s)
	i, ok := q.find(id, s)
	if !ok {
		i = q.n % q.capacity
		if int(i/recChunk) == len(q.chunks) {
			q.chunks = append(q.chunks, make([]requestRec, recChunk))
		}
		if q.n >= q.capacity { // the ring came round: forget the oldest
			q.forget(i)
		}
		if id.form == idOther {
			q.others[s] = i
			q.otherIDs[i] = s
		} else {
			q.index[id] = i
		}
		q.n++
	}
	r := &q.chunks[i/recChunk][i%recChunk]
	*r = requestRec{uuid: id.uuid, idForm: id.form}
	delete(q.bigCost, i)
	return i, r
}

// forget drops record i's ID from the index.
func (q *Requests) forget(i uint32) {
	switch old := q.chunks[i/recChunk][i%recChunk].id(); old.form {
	case idNone:
	case idOther:
		delete(q.others, q.otherIDs[i])
		delete(q.otherIDs, i)
	default:
		delete(q.index, old)
	}
}

func clampU32(v int64) uint32 { return uint32(min(max(v, 0), 1<<32-1)) }

// unixNano is t as records keep it: 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano is a record's time back, in UTC: the zero time for 0.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Apply implements Projection.
func (q *Requests) Apply(_ context.Context, batch []Event) error {
	batch = q.fresh(batch)
	for lo := 0; lo < len(batch); lo += lockEvery {
		hi := min(lo+lockEvery, len(batch))
		q.mu.Lock()
		for i := lo; i < hi; i++ {
			if err := q.apply(&batch[i]); err != nil {
				q.mu.Unlock()
				q.done(batch[:i])
				return err
			}
		}
		q.mu.Unlock()
		q.done(batch[:hi])
	}
	return nil
}

func (q *Requests) apply(e *Event) error {
	switch v := e.Body.(type) {
	case *domain.RequestCompleted:
		i, r := q.slot(v.RequestID)
		r.str = [10]uint32{q.intern(v.KeyID), q.intern(v.AccountID), q.intern(v.Model), q.intern(v.Provider),
			q.intern(v.Upstream), q.intern(v.Outcome), q.intern(v.FinishReason), q.intern(v.AppReferer), q.intern(v.AppTitle),
			q.intern(v.NativeFinishReason)}
		r.in, r.out, r.cached, r.reasoning, r.estimated = v.Usage.Input, v.Usage.Output, v.Usage.Cached, v.Usage.Reasoning, v.Usage.Estimated
		if c := v.Cost.Coefficient(); c.IsInt64() {
			r.costCoef, r.costExp = c.Int64(), v.Cost.Exponent()
		} else {
			r.bigCo = true
			q.bigCost[i] = v.Cost
		}
		r.startedAt, r.latency, r.ttfb = unixNano(v.StartedAt), clampU32(v.LatencyMs), clampU32(v.TTFBMs)
		r.priceList, r.stream, r.attempts = int32(v.PriceList), v.Stream, uint8(min(max(v.Attempts, 0), 255))
	case *domain.RequestFailed:
		_, r := q.slot(v.RequestID)
		r.failed = true
		r.str = [10]uint32{q.intern(v.KeyID), q.intern(v.AccountID), q.intern(v.Model), q.intern(v.Provider),
			0, q.intern(v.Outcome), 0, 0, 0, q.intern(v.Reason)}
		r.status, r.attempts = int16(v.Status), uint8(min(max(v.Attempts, 0), 255))
		r.startedAt, r.latency, r.stream = unixNano(v.StartedAt), clampU32(v.LatencyMs), v.Stream
	default:
		if e.Err != nil && (e.Type == domain.TypeRequestCompleted || e.Type == domain.TypeRequestFailed) {
			return e.Err
		}
	}
	return nil
}
