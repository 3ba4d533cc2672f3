// Package fakedb is an in-process KurrentDB protocol fake for tests: a gRPC
// server that speaks the Streams service (Append and Read, not
// subscriptions) of the v4 client's generated protos, with streams,
// expected revisions, event-ID idempotency and a commit-ordered $all.
//
// It is not KurrentDB. It lets the adapter's wire mapping, error
// translation, hash chaining and $all filtering be tested where no server
// can run; real semantics are checked by the contract tests against a real
// server (ROUTEFREE_KURRENTDB_URL).
package fakedb

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
)

// Event is one record of the fake's log.
type Event struct {
	ID       uuid.UUID
	Stream   string
	Revision uint64
	Type     string
	Commit   uint64
	Prepare  uint64
	Data     []byte
	Meta     []byte
	Created  time.Time
}

// AppendCall is what one Append request carried on the wire.
type AppendCall struct {
	Stream   string
	Expected string // "any", "no_stream", "stream_exists" or the revision
	IDs      []uuid.UUID
}

// Server is the fake. Its exported fields may be set before the calls they
// affect.
type Server struct {
	api.UnimplementedStreamsServer

	mu      sync.Mutex
	log     []Event
	streams map[string][]int  // stream → indexes into log
	ids     map[uuid.UUID]int // event ID → index into log (the last stored)
	next    uint64            // next log position
	calls   []AppendCall

	// IdempotentNoPosition makes idempotent replies carry no position (as
	// some server versions do) instead of the original one.
	IdempotentNoPosition bool
	// loseReplies makes the next n appends store their events and then
	// fail, as a reply lost on the network would.
	loseReplies int

	grpc *grpc.Server
	addr string
}

// Start serves the fake on a loopback port.
func Start() (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{streams: make(map[string][]int), ids: make(map[uuid.UUID]int), next: 1000, grpc: grpc.NewServer(), addr: lis.Addr().String()}
	api.RegisterStreamsServer(s.grpc, s)
	go func() { _ = s.grpc.Serve(lis) }()
	return s, nil
}

// ConnString is the client connection string for the fake.
func (s *Server) ConnString() string { return "esdb://" + s.addr + "?tls=false" }

// Stop ends the server and its open calls.
func (s *Server) Stop() { s.grpc.Stop() }

// Calls returns the appends received so far.
func (s *Server) Calls() []AppendCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AppendCall(nil), s.calls...)
}

// Log returns a copy of every stored record, system ones included.
func (s *Server) Log() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.log...)
}

// LoseReplies makes the next n appends store their events but answer with
// an error.
func (s *Server) LoseReplies(n int) {
	s.mu.Lock()
	s.loseReplies = n
	s.mu.Unlock()
}

// AddSystemEvent stores a KurrentDB-internal event (its type should start
// with "$"), as the server writes statistics and metadata into $all.
func (s *Server) AddSystemEvent(stream, eventType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(stream, []*api.AppendReq_ProposedMessage{{
		Id:       protoUUID(uuid.New()),
		Metadata: map[string]string{"type": eventType, "content-type": "application/json"},
		Data:     []byte(`{}`),
	}})
}

// store appends messages to a stream; the caller holds mu. Like KurrentDB,
// the events of one append share a commit position and have their own
// prepare positions.
func (s *Server) store(stream string, msgs []*api.AppendReq_ProposedMessage) (first int) {
	first = len(s.log)
	commit := s.next
	for _, m := range msgs {
		id, _ := fromProtoUUID(m.GetId())
		s.log = append(s.log, Event{
			ID: id, Stream: stream, Revision: uint64(len(s.streams[stream])),
			Type: m.GetMetadata()["type"], Commit: commit, Prepare: s.next,
			Data: m.GetData(), Meta: m.GetCustomMetadata(), Created: time.Now().UTC(),
		})
		s.streams[stream] = append(s.streams[stream], len(s.log)-1)
		s.ids[id] = len(s.log) - 1
		s.next += 100 + uint64(len(m.GetData()))
	}
	return first
}

func protoUUID(id uuid.UUID) *shared.UUID {
	var most, least int64
	for i := 0; i < 8; i++ {
		most = most<<8 | int64(id[i])
		least = least<<8 | int64(id[8+i])
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}}
}

func fromProtoUUID(u *shared.UUID) (uuid.UUID, error) {
	if st := u.GetStructured(); st != nil {
		var id uuid.UUID
		m, l := uint64(st.MostSignificantBits), uint64(st.LeastSignificantBits)
		for i := 7; i >= 0; i-- {
			id[i], id[8+i] = byte(m), byte(l)
			m, l = m>>8, l>>8
		}
		return id, nil
	}
	return uuid.Parse(u.GetString_())
}

func expectedString(o *api.AppendReq_Options) string {
	switch o.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_NoStream:
		return "no_stream"
	case *api.AppendReq_Options_StreamExists:
		return "stream_exists"
	case *api.AppendReq_Options_Revision:
		return strconv.FormatUint(o.GetRevision(), 10)
	}
	return "any"
}

func (e *Event) String() string {
	return fmt.Sprintf("%s@%d(%d/%d)", e.Stream, e.Revision, e.Commit, e.Prepare)
}
