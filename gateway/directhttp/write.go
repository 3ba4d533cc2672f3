package directhttp

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"

	"golang.org/x/net/http/httpguts"
)

// userAgent is what net/http sends when the request names none.
const userAgent = "Go-http-client/1.1"

// checkHeader refuses a header name or value that HTTP forbids, as
// net/http's Transport does before sending: it can only come from a
// misconfigured key or header, and a line break in it would start a header
// of its own.
func checkHeader(h http.Header) error {
	for k, vv := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("directhttp: invalid header field name %q", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("directhttp: invalid header field value for %q", k)
			}
		}
	}
	return nil
}

// writeRequest writes req as HTTP/1.1, its header already checked. The
// requests the adapters send (a body of known length, no trailers, no
// Transfer-Encoding, an ASCII host) are written here directly: net/http's
// Request.Write builds a transfer writer, looks for a client trace and
// copies and sorts the header on every call, which profiles showed as a few
// per cent of the gateway's CPU. Any other request goes to Request.Write.
// gzip adds Accept-Encoding: gzip, which req's own header does not hold.
func writeRequest(w *bufio.Writer, req *http.Request, gzip bool) error {
	host := req.Host
	if host == "" && req.URL != nil {
		host = req.URL.Host
	}
	noBody := req.Body == nil || req.Body == http.NoBody
	if req.URL == nil || req.TransferEncoding != nil || req.Trailer != nil || req.Close ||
		req.ContentLength < 0 || (req.ContentLength == 0 && !noBody) || (req.ContentLength > 0 && noBody) ||
		req.Method == "" || req.Method == http.MethodConnect || req.URL.User != nil ||
		!plainHost(host) {
		if gzip {
			r := *req
			r.Header = req.Header.Clone()
			if r.Header == nil {
				r.Header = http.Header{}
			}
			r.Header.Set("Accept-Encoding", "gzip")
			req = &r
		}
		return req.Write(w)
	}
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(req.URL.RequestURI())
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	if ua, ok := req.Header["User-Agent"]; !ok {
		w.WriteString("User-Agent: " + userAgent + "\r\n")
	} else if len(ua) > 0 && ua[0] != "" {
		w.WriteString("User-Agent: ")
		w.WriteString(ua[0])
		w.WriteString("\r\n")
	}
	// net/http sends an explicit zero for the methods that carry a body.
	if req.ContentLength > 0 || req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
		var n [20]byte
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(n[:0], req.ContentLength, 10))
		w.WriteString("\r\n")
	}
	if gzip {
		w.WriteString("Accept-Encoding: gzip\r\n")
	}
	for k, vv := range req.Header {
		switch k {
		case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		for _, v := range vv {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(textproto.TrimString(v)) // as Request.Write trims
			w.WriteString("\r\n")
		}
	}
	if _, err := w.WriteString("\r\n"); err != nil {
		closeBody(req)
		return err
	}
	if noBody {
		return nil
	}
	defer req.Body.Close()
	n, err := io.CopyN(w, req.Body, req.ContentLength)
	if err == io.EOF {
		return fmt.Errorf("directhttp: ContentLength=%d with Body length %d", req.ContentLength, n)
	}
	return err
}

// plainHost is a host:port that needs neither Punycode nor zone removal,
// which Request.Write does.
func plainHost(h string) bool {
	if h == "" || !httpguts.ValidHostHeader(h) {
		return false
	}
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 || h[i] == '%' {
			return false
		}
	}
	return true
}
