package payments

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/console/headers"
)

// maxNotification bounds a notification's body: ECPay's are a few hundred
// bytes.
const maxNotification = 64 << 10

// Register mounts ECPay's notification endpoints and the customer's way
// back from ECPay's pages. They are public: a notification proves itself
// by its CheckMacValue, not by a session.
func Register(e *echo.Echo, s *Service) {
	e.POST(ReturnPath, s.notify(s.Return))
	e.POST(PaymentInfoPath, s.notify(s.PaymentInfo))
	e.GET(BackPath, s.back, headers.Secure)
}

func (s *Service) notify(take func(ctx context.Context, form url.Values) string) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxNotification)
		if err := r.ParseForm(); err != nil {
			return c.String(http.StatusBadRequest, "0|unreadable form")
		}
		return c.String(http.StatusOK, take(r.Context(), r.PostForm))
	}
}

var backPage = template.Must(template.New("back").Parse(`<!doctype html>
<html lang="zh-Hant"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={{.}}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>RouteFree</title>
<link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml"></head>
<body><p><a id="back" href="{{.}}">返回主控台 · Back to the console</a></p></body></html>`))

// back answers ECPay's ClientBackURL with a page of our own site that
// leads to the console: the session cookie (SameSite=Strict) is not sent
// on the navigation that comes from ECPay's site, but is on this one.
func (s *Service) back(c echo.Context) error {
	acct := c.QueryParam("account")
	target := "/console/"
	if acct != "" && !strings.ContainsAny(acct, "/\\") {
		target = s.cfg.ConsolePath(acct)
	}
	c.Response().Header().Set("Content-Type", "text/html; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	return backPage.Execute(c.Response(), target)
}
