package fakedb

import (
	"errors"
	"io"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Append implements Streams.Append: an options message, then the events.
func (s *Server) Append(stream api.Streams_AppendServer) error {
	head, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := head.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "first append message must carry options")
	}
	var msgs []*api.AppendReq_ProposedMessage
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		msgs = append(msgs, m.GetProposedMessage())
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	ids := make([]uuid.UUID, len(msgs))
	for i, m := range msgs {
		if ids[i], err = fromProtoUUID(m.GetId()); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, AppendCall{Stream: name, Expected: expectedString(opts), IDs: ids})
	resp := s.decide(name, opts, ids, msgs)
	if s.loseReplies > 0 && resp.GetSuccess() != nil {
		s.loseReplies--
		return status.Error(codes.DeadlineExceeded, "fakedb: reply lost")
	}
	return stream.SendAndClose(resp)
}

// decide checks the expectation and idempotency the way KurrentDB does,
// stores the events if they pass, and builds the reply. The caller holds mu.
func (s *Server) decide(name string, opts *api.AppendReq_Options, ids []uuid.UUID, msgs []*api.AppendReq_ProposedMessage) *api.AppendResp {
	idx := s.streams[name]
	cur := int64(len(idx)) - 1 // -1: no stream
	var expected int64         // as the server numbers it: -1 no stream, -2 any, -4 exists
	switch opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_NoStream:
		expected = -1
	case *api.AppendReq_Options_StreamExists:
		expected = -4
	case *api.AppendReq_Options_Revision:
		expected = int64(opts.GetRevision())
	default:
		expected = -2
	}
	// Idempotency: the same IDs already stored in this stream, in order.
	from := int64(-1)
	switch {
	case expected >= -1 && expected < cur:
		from = expected + 1
	case expected < -1:
		from = s.find(name, ids)
	}
	if from >= 0 && len(ids) > 0 && s.matches(idx, from, ids) {
		return s.success(int(from)+len(ids)-1, s.log[idx[from]], true)
	}
	ok := expected == -2 || (expected == -4 && cur >= 0) || expected == cur
	if !ok {
		return wrongVersion(opts, cur)
	}
	if len(msgs) == 0 {
		return &api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
			CurrentRevisionOption: &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
			PositionOption:        &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
		}}}
	}
	first := s.store(name, msgs)
	return s.success(len(s.streams[name])-1, s.log[first], false)
}

// find is the revision of ids[0] in the stream, or -1.
func (s *Server) find(name string, ids []uuid.UUID) int64 {
	if len(ids) == 0 {
		return -1
	}
	at, ok := s.ids[ids[0]]
	if !ok || s.log[at].Stream != name {
		return -1
	}
	return int64(s.log[at].Revision)
}

func (s *Server) matches(idx []int, from int64, ids []uuid.UUID) bool {
	if from+int64(len(ids)) > int64(len(idx)) {
		return false
	}
	for i, id := range ids {
		if s.log[idx[from+int64(i)]].ID != id {
			return false
		}
	}
	return true
}

// success replies with the stream's revision and, as KurrentDB does, one
// log position for the whole append, twice (commit and prepare): that of its
// first event (an idempotent reply names the original append's).
func (s *Server) success(rev int, first Event, idempotent bool) *api.AppendResp {
	ok := &api.AppendResp_Success{CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(rev)}}
	if idempotent && s.IdempotentNoPosition {
		ok.PositionOption = &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	} else {
		ok.PositionOption = &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: first.Prepare, PreparePosition: first.Prepare}}
	}
	return &api.AppendResp{Result: &api.AppendResp_Success_{Success: ok}}
}

func wrongVersion(opts *api.AppendReq_Options, cur int64) *api.AppendResp {
	w := &api.AppendResp_WrongExpectedVersion{}
	if cur < 0 {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(cur)}
	}
	switch e := expectedString(opts); e {
	case "any":
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	case "no_stream":
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case "stream_exists":
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	default:
		n, _ := strconv.ParseUint(e, 10, 64)
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: n}
	}
	return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}
