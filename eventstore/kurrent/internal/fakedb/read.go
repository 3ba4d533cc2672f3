package fakedb

import (
	"sort"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Read implements Streams.Read for reads of a stream or of $all, forwards
// or backwards; subscriptions are not implemented.
func (s *Server) Read(req *api.ReadReq, out api.Streams_ReadServer) error {
	o := req.GetOptions()
	if o.GetSubscription() != nil {
		return status.Error(codes.Unimplemented, "fakedb: subscriptions are not implemented")
	}
	count := o.GetCount()
	back := o.GetReadDirection() == api.ReadReq_Options_Backwards
	evs, notFound := s.selectEvents(o, back, count)
	if notFound != "" {
		return out.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(notFound)},
		}}})
	}
	for i := range evs {
		if err := out.Send(readResp(&evs[i])); err != nil {
			return err
		}
	}
	return nil
}

// selectEvents copies up to count events the read covers, in read order.
func (s *Server) selectEvents(o *api.ReadReq_Options, back bool, count uint64) (evs []Event, notFound string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var idx []int // log indexes in forward order; the read takes from one end
	if st := o.GetStream(); st != nil {
		name := string(st.GetStreamIdentifier().GetStreamName())
		all, ok := s.streams[name]
		if !ok {
			return nil, name
		}
		switch {
		case st.GetEnd() != nil && !back, st.GetStart() != nil && back:
		case st.GetEnd() != nil, st.GetStart() != nil:
			idx = all
		case back:
			idx = all[:min(int(st.GetRevision())+1, len(all))]
		default:
			idx = all[min(int(st.GetRevision()), len(all)):]
		}
	} else {
		a := o.GetAll()
		lo, hi := 0, len(s.log)
		switch p := a.GetPosition(); {
		case a.GetStart() != nil && back, a.GetEnd() != nil && !back:
			hi = 0
		case p != nil && back: // events before p
			hi = sort.Search(len(s.log), func(i int) bool { return !less(s.log[i].Commit, s.log[i].Prepare, p.CommitPosition, p.PreparePosition) })
		case p != nil: // events from p on
			lo = sort.Search(len(s.log), func(i int) bool { return !less(s.log[i].Commit, s.log[i].Prepare, p.CommitPosition, p.PreparePosition) })
		}
		// Only the count events at the read's end are needed.
		c := int(min(count, uint64(len(s.log))))
		if back {
			lo = max(lo, hi-c)
		} else {
			hi = min(hi, lo+c)
		}
		for i := lo; i < hi; i++ {
			idx = append(idx, i)
		}
	}
	n := min(uint64(len(idx)), count)
	for i := range n {
		at := idx[i]
		if back {
			at = idx[uint64(len(idx))-1-i]
		}
		evs = append(evs, s.log[at])
	}
	return evs, ""
}

func less(c1, p1, c2, p2 uint64) bool { return c1 < c2 || (c1 == c2 && p1 < p2) }

func readResp(e *Event) *api.ReadResp {
	ticks := e.Created.UnixNano() / 100 // .NET ticks since the Unix epoch, as the server sends
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               protoUUID(e.ID),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(e.Stream)},
			StreamRevision:   e.Revision,
			CommitPosition:   e.Commit,
			PreparePosition:  e.Prepare,
			Metadata:         map[string]string{"type": e.Type, "content-type": "application/json", "created": strconv.FormatInt(ticks, 10)},
			CustomMetadata:   e.Meta,
			Data:             e.Data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: e.Commit},
	}}}
}
