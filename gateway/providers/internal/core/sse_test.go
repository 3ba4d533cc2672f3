package core

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSSEReader(t *testing.T) {
	long := strings.Repeat("x", 40<<10) // longer than the buffer
	in := ": comment\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\n" +
		"data: line1\ndata:line2\nid: 7\nretry: 10\n\n" +
		"\n\n" +
		"data: " + long + "\n\n" +
		"event: ping\n\n" + // no data: not an event
		"data: [DONE]\n\n" +
		"data: half"
	r := NewSSEReader(iotest.OneByteReader(strings.NewReader(in)))
	defer r.Release()
	want := []struct{ event, data string }{
		{"message_start", `{"a":1}`}, {"", "line1\nline2"}, {"", long}, {"", "[DONE]"},
	}
	for i, w := range want {
		ev, data, err := r.Next()
		if err != nil || string(ev) != w.event || string(data) != w.data {
			t.Fatalf("event %d = %q %q %v", i, ev, data[:min(len(data), 40)], err)
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("a half-written last event must be dropped, got %v", err)
	}
}

func TestSSEReaderReadError(t *testing.T) {
	boom := errors.New("reset")
	r := NewSSEReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom)))
	defer r.Release()
	if _, d, err := r.Next(); err != nil || string(d) != "a" {
		t.Fatalf("%q %v", d, err)
	}
	if _, _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}

func TestErrorFromBodies(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"message":"m1","type":"server_error"}}`:                              "m1/server_error/server_error",
		`{"error":{"message":"m1","type":"server_error","code":"rate_limit_exceeded"}}`: "m1/server_error/rate_limit_exceeded",
		`{"error":{"message":"m1","type":"server_error","code":503}}`:                   "m1/server_error/503",
		`{"type":"error","error":{"type":"overloaded_error","message":"m2"}}`:           "m2/overloaded_error/overloaded_error",
		`[{"error":{"code":429,"message":"m3","status":"RESOURCE_EXHAUSTED"}}]`:         "m3/RESOURCE_EXHAUSTED/RESOURCE_EXHAUSTED",
		`<html>bad gateway</html>`: "//",
	} {
		msg, typ, code := errorMessage([]byte(body))
		if msg+"/"+typ+"/"+code != want {
			t.Errorf("%s: %s/%s/%s", body, msg, typ, code)
		}
	}
}

// Pending is true only while a whole event is buffered: a half-read one
// would make Next wait for the network.
func TestSSEPendingMeansAWholeEventIsBuffered(t *testing.T) {
	pr, pw := io.Pipe()
	r := NewSSEReader(pr)
	defer r.Release()
	go func() {
		pw.Write([]byte("data: one\n\ndata: two\n\ndata: thr"))
		pw.Write([]byte("ee\r\n\r\n"))
		pw.Close()
	}()
	if _, d, err := r.Next(); err != nil || string(d) != "one" {
		t.Fatalf("first event %q %v", d, err)
	}
	if !r.Pending() {
		t.Fatal("the second event is buffered, Pending says no")
	}
	if _, d, err := r.Next(); err != nil || string(d) != "two" {
		t.Fatalf("second event %q %v", d, err)
	}
	if r.Pending() {
		t.Fatal("only half of the third event is buffered, Pending says yes")
	}
	if _, d, err := r.Next(); err != nil || string(d) != "three" {
		t.Fatalf("third event %q %v", d, err)
	}
	if r.Pending() {
		t.Fatal("nothing is buffered, Pending says yes")
	}
}

// An event larger than a whole answer may be, in one line or in many, ends
// the stream rather than growing without bound.
func TestSSEEventIsBounded(t *testing.T) {
	huge := strings.Repeat("x", MaxResponseBody+1<<20)
	for name, in := range map[string]string{
		"one line":   "data: " + huge + "\n\n",
		"many lines": strings.Repeat("data: "+strings.Repeat("x", 1<<20-1)+"\n", MaxResponseBody>>20+1) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := NewSSEReader(strings.NewReader("data: small\n\n" + in))
			defer r.Release()
			if _, d, err := r.Next(); err != nil || string(d) != "small" {
				t.Fatalf("%q %v", d, err)
			}
			if _, d, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
				t.Fatalf("%d bytes, err %v", len(d), err)
			}
		})
	}
}
