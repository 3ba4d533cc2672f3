package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Staff tokens in the console: admins list them, issue one (its secret
// shown once, on the answer to the form) and revoke one after a
// confirmation. The commands refuse to revoke the last admin token.

var staffRoles = []string{"admin", "finance", "auditor"}

func staffStatus(t StaffToken) string {
	if t.Revoked {
		return "revoked"
	}
	return "active"
}

var staffList = listSpec[StaffToken]{
	text: func(t StaffToken) string { return strings.Join([]string{t.ID, t.Name, t.Role}, " ") },
	filters: map[string]func(StaffToken) string{
		"role":   func(t StaffToken) string { return t.Role },
		"status": staffStatus,
	},
	sorts: map[string]func(a, b StaffToken) int{
		"issued": times(func(t StaffToken) time.Time { return t.IssuedAt }),
		"role":   by(func(t StaffToken) string { return t.Role }),
		"name":   by(func(t StaffToken) string { return t.Name }),
	},
	sort:     "issued",
	desc:     true,
	keepHash: "staff-tokens",
}

func (s *server) registerStaffPages(g *echo.Group, admin echo.MiddlewareFunc) {
	g.GET("/staff", s.staffPage, admin)
	g.POST("/staff", s.issueStaffForm, admin)
	g.POST("/staff/:id/revoke", s.revokeStaffForm, admin)
}

func (s *server) staffData(c echo.Context, newID, secret string) map[string]any {
	rows, l := staffList.apply(c, s.deps.Views.StaffTokens())
	return map[string]any{"Tokens": rows, "List": l, "Roles": staffRoles, "NewID": newID, "NewSecret": secret,
		"Self": principal(c).TokenID, "Once": randomToken()}
}

func (s *server) staffPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "staff", s.newPage(c, "title.staff", s.staffData(c, "", "")))
}

// issueStaffForm answers with the list showing the new token: that answer
// is the only place its secret ever appears.
func (s *server) issueStaffForm(c echo.Context) error {
	h, settle := s.cmds()
	ctx := c.Request().Context()
	var id, secret string
	repeatedTo, err := s.makeOnce(c, func() (string, error) {
		var err error
		id, secret, err = h.IssueStaffToken(ctx, c.FormValue("role"), c.FormValue("name"))
		return "/console/staff", err
	})
	if err == nil && repeatedTo == "" {
		err = settle(ctx)
	}
	if err != nil {
		return err
	}
	if repeatedTo != "" {
		return redirectBack(c, repeatedTo, "staff.repeated")
	}
	return s.render(c, http.StatusCreated, "staff", s.newPage(c, "title.staff", s.staffData(c, id, secret)))
}

func (s *server) revokeStaffForm(c echo.Context) error {
	id := c.Param("id")
	var tok StaffToken
	found := false
	for _, t := range s.deps.Views.StaffTokens() {
		if t.ID == id {
			tok, found = t, true
		}
	}
	if !found {
		return echo.NewHTTPError(http.StatusNotFound, "staff token "+id)
	}
	target, targetID := tok.ID, ""
	if tok.Name != "" {
		target, targetID = tok.Name, tok.ID
	}
	self := principal(c).TokenID == id
	var warnings []string
	if self {
		warnings = []string{"confirm.staff.self"}
	}
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.revokestaff", Target: target, TargetID: targetID, Danger: true, Note: "confirm.revokestaff.note",
		Warnings: warnings, Facts: [][2]string{{"staff.role", tr(pageLang(c.Request()), "role."+tok.Role)}}, Post: "/console/staff/" + url.PathEscape(id) + "/revoke",
		Back: "/console/staff"}); !ok {
		return err
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	err := h.RevokeStaffToken(ctx, id)
	if err == nil {
		err = settle(ctx)
	}
	if err != nil {
		return err
	}
	if self {
		s.endSession(c)
		return redirectBack(c, "/console/signin", "staff.revoked.self")
	}
	return redirectBack(c, "/console/staff", "staff.revoked")
}
