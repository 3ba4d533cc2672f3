package directhttp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// parsed is what a server reads of a written request.
type parsed struct {
	Method, URI, Host string
	Header            http.Header
	ContentLength     int64
	TransferEncoding  []string
	Body              string
}

func readBack(t *testing.T, raw []byte) parsed {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("reading %q: %v", raw, err)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return parsed{r.Method, r.RequestURI, r.Host, r.Header, r.ContentLength, r.TransferEncoding, string(b)}
}

// Every request is read by a server exactly as net/http's Request.Write
// would have sent it, whether writeRequest writes it or hands it over.
func TestWriteRequestReadsAsRequestWrite(t *testing.T) {
	type mk func() *http.Request
	post := func(url, body string, h map[string][]string) mk {
		return func() *http.Request {
			r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range h {
				r.Header[k] = v
			}
			return r
		}
	}
	cases := map[string]mk{
		"chat": post("http://127.0.0.1:8080/v1/chat/completions", `{"model":"m","messages":[]}`, map[string][]string{
			"Authorization": {"Bearer sk-x"}, "Content-Type": {"application/json"}, "Accept": {"text/event-stream"},
			"Anthropic-Beta": {"a", "b"}, "X-Padded": {"  spaced  "}}),
		"query and own agent": post("http://h.example/v1/x?key=a%20b&alt=sse", "{}", map[string][]string{"User-Agent": {"routefree-test/1"}}),
		"empty agent":         post("http://h.example/x", "{}", map[string][]string{"User-Agent": {""}}),
		"empty post":          func() *http.Request { r, _ := http.NewRequest(http.MethodPost, "http://h.example/x", nil); return r },
		"get": func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "http://h.example/models?x=1", nil)
			return r
		},
		"delete": func() *http.Request {
			r, _ := http.NewRequest(http.MethodDelete, "http://h.example/files/1", nil)
			return r
		},
		"host override": func() *http.Request {
			r := post("http://127.0.0.1:9/v1/x", "abc", nil)()
			r.Host = "api.example:443"
			return r
		},
		"big body": post("http://h.example/v1/x", strings.Repeat("x", 20<<10), nil),
		// Handed to Request.Write:
		"unknown length": func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "http://h.example/x", io.MultiReader(strings.NewReader("chun"), strings.NewReader("ked")))
			return r
		},
		"unicode host": post("http://bücher.example/x", "{}", nil),
		"close":        func() *http.Request { r := post("http://h.example/x", "{}", nil)(); r.Close = true; return r },
	}
	for name, req := range cases {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gzip=%v", name, gz), func(t *testing.T) {
				var ours, theirs bytes.Buffer
				w := bufio.NewWriter(&ours)
				if err := writeRequest(w, req(), gz); err != nil {
					t.Fatal(err)
				}
				w.Flush()
				r := req()
				if gz { // what net/http's Transport adds
					r.Header.Set("Accept-Encoding", "gzip")
				}
				if err := r.Write(&theirs); err != nil {
					t.Fatal(err)
				}
				got, want := readBack(t, ours.Bytes()), readBack(t, theirs.Bytes())
				if !reflect.DeepEqual(got, want) {
					t.Errorf("written:\n%q\nreads as %+v\nRequest.Write:\n%q\nreads as %+v", ours.Bytes(), got, theirs.Bytes(), want)
				}
				if ae := got.Header.Get("Accept-Encoding"); (ae == "gzip") != gz {
					t.Errorf("Accept-Encoding %q with gzip=%v", ae, gz)
				}
			})
		}
	}
}

func TestBodyShorterThanItsLengthFails(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPost, "http://h.example/x", strings.NewReader("short"))
	r.ContentLength = 10
	if err := writeRequest(bufio.NewWriter(io.Discard), r, false); err == nil || !strings.Contains(err.Error(), "ContentLength=10 with Body length 5") {
		t.Fatalf("err = %v", err)
	}
}

// A header value with a line break (a key pasted with its newline) would
// start a header of its own: it is refused before anything is sent, and the
// pool is none the worse for it.
func TestForbiddenHeaderIsRefusedBeforeSending(t *testing.T) {
	var got atomic.Int64
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		if r.Header.Get("X-Injected") != "" {
			t.Errorf("injected header arrived")
		}
		io.WriteString(w, "ok")
	})
	hc, _ := client()
	for _, h := range []http.Header{
		{"Authorization": {"Bearer sk-x\r\nX-Injected: 1"}},
		{"Bad Name": {"v"}},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/x", strings.NewReader("{}"))
		req.Header = h
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("header %q sent", h)
		} else if !strings.Contains(err.Error(), "invalid header field") {
			t.Errorf("header %q: %v", h, err)
		}
	}
	resp, err := post(t, hc, context.Background(), srv.URL+"/x", "{}")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" || got.Load() != 1 {
		t.Fatalf("answer %q; server saw %d requests, want 1", b, got.Load())
	}
}
