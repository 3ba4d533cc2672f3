package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// MaxResponseBody bounds a non-streamed answer (images can make them big).
const MaxResponseBody = 64 << 20

var (
	jsonType  = []string{"application/json"}
	sseAccept = []string{"text/event-stream"}
)

// Post sends a JSON body and returns a 2xx response; any other status
// becomes an *UpstreamError. header adds the provider's auth headers.
func Post(ctx context.Context, hc *http.Client, provider, url string, body []byte, stream bool, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header["Content-Type"] = jsonType
	if stream {
		req.Header["Accept"] = sseAccept
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := send(hc, req, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := ErrorFromResponse(provider, resp)
		e.Message = RedactKeys(withoutKeys(e.Message, header))
		return nil, e
	}
	return resp, nil
}

// authHeaders are the headers a provider's key goes in.
var authHeaders = []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key", "Api-Key"}

// withoutKeys takes the key sent to an upstream out of what it answered:
// hosts that refuse a key may quote it, and the message goes on to the
// gateway's customers and logs.
func withoutKeys(msg string, header http.Header) string {
	for _, h := range authHeaders {
		for _, v := range header.Values(h) {
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				v = v[7:]
			}
			if v = strings.TrimSpace(v); len(v) >= 8 {
				msg = strings.ReplaceAll(msg, v, "[redacted key]")
			}
		}
	}
	return msg
}

// keyLike matches what may be a provider's key or part of one: a token
// beginning as OpenAI's (sk-, sk-proj-), Anthropic's (sk-ant-) or Google's
// (AIza) keys do, masked or not (sk-proj-****…Q3xA, sk-...nOUA), with
// whatever is joined to it before (a host's own prefix), and any
// token with a run of four or more asterisks in it, the mask providers
// write over the middle of a key they refuse (nvapi-dy****xZvs). A
// sentence's full stop after it stays.
var keyLike = regexp.MustCompile(`[\w\-]*\b(?:sk-|AIza)[\w\-.*]*[\w*]|[\w\-.:/+=]*\*{4,}(?:[\w\-.*]*[\w*])?`)

// RedactKeys replaces key-like tokens in an upstream's text with
// "[redacted key]": a provider refusing a key quotes part of it (its last
// characters), which must reach neither the gateway's customers nor its
// logs. The exact key sent is replaced first (withoutKeys), so that no
// part of it is left beside the token.
func RedactKeys(s string) string {
	if !strings.Contains(s, "sk-") && !strings.Contains(s, "AIza") && !strings.Contains(s, "****") {
		return s
	}
	return keyLike.ReplaceAllString(s, "[redacted key]")
}

// send makes the call through the client's transport itself when the
// client adds nothing a provider's API needs (no timeout of its own, no
// cookies): http.Client.Do copies the request's headers for redirects and
// wraps every call, on every request. A provider's API does not redirect
// its POSTs; should one answer 307 or 308 (a base URL moved), the call is
// made again through the client, which follows it.
func send(hc *http.Client, req *http.Request, body []byte) (*http.Response, error) {
	if hc.Transport == nil || hc.Timeout != 0 || hc.Jar != nil {
		return hc.Do(req)
	}
	resp, err := hc.Transport.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: "Post", URL: req.URL.String(), Err: err}
	}
	if resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusPermanentRedirect {
		resp.Body.Close()
		again := req.Clone(req.Context())
		again.Body = io.NopCloser(bytes.NewReader(body))
		return hc.Do(again)
	}
	return resp, nil
}

// ReadBody reads and closes a non-streamed answer.
func ReadBody(provider string, resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil && !Retryable(err) && !errors.Is(err, context.Canceled) {
		// Not the connection failing but the body: its encoding is
		// corrupt (a gzip stream that does not decode), a malformed answer.
		return nil, BadResponse(provider, err)
	}
	if err != nil {
		return nil, err
	}
	if len(b) > MaxResponseBody {
		// Retryable: the next upstream may well answer within the bound.
		return nil, &UpstreamError{Provider: provider, Status: http.StatusBadGateway, Retryable: true, Message: "response too large"}
	}
	return b, nil
}

// BadResponse reports an answer the adapter could not understand.
func BadResponse(provider string, err error) *UpstreamError {
	return &UpstreamError{Provider: provider, Status: http.StatusBadGateway, Retryable: true,
		Message: fmt.Sprintf("malformed upstream response: %v", err)}
}

// Cut wraps a stream-read failure so it matches ErrStreamCut.
func Cut(provider string, err error) error {
	if err == nil || err == io.EOF {
		return fmt.Errorf("%s: %w", provider, ErrStreamCut)
	}
	return fmt.Errorf("%s: %w: %w", provider, ErrStreamCut, err)
}
