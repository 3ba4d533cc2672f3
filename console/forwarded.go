package console

import (
	"net"
	"net/http"

	"github.com/labstack/echo/v4"
)

// forwardedHeaders are the headers a reverse proxy sets about the client's
// connection. A client can send them too, so they mean something only when
// the connection comes from a proxy named in --trusted-proxies.
var forwardedHeaders = []string{"X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Ssl", "X-Url-Scheme", "Forwarded"}

// fromTrustedProxy reports whether the request's connection comes from one
// of the trusted proxies.
func fromTrustedProxy(r *http.Request, trusted []*net.IPNet) bool {
	if len(trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// dropUntrustedForwarding removes the forwarded headers of a request that
// does not come from a trusted proxy, so nothing below (the Secure flag of
// cookies) can believe them. X-Forwarded-For is left to echo's IPExtractor,
// which applies the same trust.
func (s *server) dropUntrustedForwarding(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !fromTrustedProxy(r, s.deps.TrustedProxies) {
			for _, h := range forwardedHeaders {
				r.Header.Del(h)
			}
		}
		return next(c)
	}
}
