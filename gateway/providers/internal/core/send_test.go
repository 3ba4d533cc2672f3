package core

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Calls go through the client's transport without http.Client's wrapping,
// but an upstream that moved its API (307 or 308) is still followed, the
// body sent again, as the client would.
func TestPostFollowsAMovedAPI(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/old" {
				http.Redirect(w, r, "/new", status)
				return
			}
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Auth", r.Header.Get("Authorization"))
			w.Write(b)
		}))
		hc := &http.Client{Transport: http.DefaultTransport}
		resp, err := Post(context.Background(), hc, "test", srv.URL+"/old", []byte(`{"a":1}`), false, http.Header{"Authorization": {"Bearer k"}})
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != `{"a":1}` || resp.Header.Get("X-Auth") != "Bearer k" {
			t.Errorf("%d: %d %q auth %q; want the body and key at the new place", status, resp.StatusCode, b, resp.Header.Get("X-Auth"))
		}
		srv.Close()
	}
	// A call that cannot connect says what it was.
	hc := &http.Client{Transport: http.DefaultTransport}
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	if _, err := Post(context.Background(), hc, "test", addr+"/x", nil, false, nil); err == nil {
		t.Fatal("a closed server answered")
	} else if got := err.Error(); len(got) < 5 || got[:5] != "Post " {
		t.Errorf("error %q; want it to name the call", got)
	}
}
