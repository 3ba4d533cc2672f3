// Package headers holds the response headers every staff and customer face
// sends: the console, the admin API and the invoicing API share them, so a
// page, a JSON answer and an invoice PDF are equally hard to frame, sniff
// or leave in a shared cache.
package headers

import "github.com/labstack/echo/v4"

// ContentSecurityPolicy allows no inline script or style, nothing from
// elsewhere and no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Secure sets the CSP and its companions, and Cache-Control: no-store,
// before the handler runs, so error responses carry them too. Answers to a
// signed-in caller (balances, keys shown once, invoices) must never be kept
// by a browser or a proxy; a handler of public content may override the
// cache header (the console's static files do).
func Secure(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}
