package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/width"

	"github.com/routefree/routefree/commands"
)

// Corrections of an account's details (finance or an admin): organisation,
// 統一編號, address and contact, with a reason. Invoices issued before keep
// the buyer they were issued to.

// detailsInput is a correction as the API takes it: a field left out
// keeps its value, "" clears the 統一編號, address or contact.
type detailsInput struct {
	Organisation *string `json:"organisation"`
	TaxID        *string `json:"tax_id"`
	Address      *string `json:"address"`
	Contact      *string `json:"contact"`
	Reason       string  `json:"reason"`
}

// apiAccountDetails answers with the account and the fields the
// correction changed (none: nothing was recorded).
func (s *server) apiAccountDetails(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in detailsInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	was, now, err := h.ChangeAccountDetails(ctx, a.ID, commands.DetailsChange{Organisation: in.Organisation, TaxID: in.TaxID,
		Address: in.Address, Contact: in.Contact, Reason: in.Reason})
	if err == nil {
		err = settle(ctx)
	}
	if err != nil {
		return apiError(err)
	}
	changed := []string{}
	for _, ch := range commands.Changes(was, now) {
		changed = append(changed, ch.Field)
	}
	a, _ = s.deps.Views.Account(a.ID)
	return c.JSON(http.StatusOK, map[string]any{"data": s.accountJSON(a), "changed": changed})
}

// detailLabels are the messages that name each detail on a page.
var detailLabels = map[string]string{"organisation": "organisation", "tax_id": "taxid", "address": "address", "contact": "contact"}

// detailsForm corrects an account's details from its page: a field the
// form sends sets its detail (empty clears it), one it does not send
// keeps it. It checks the input and shows each change before it asks to
// confirm, and records nothing when nothing changes.
func (s *server) detailsForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	r := c.Request()
	var fields [][2]string // what the confirmation sends on
	given := func(name string) *string {
		v := strings.TrimSpace(r.PostFormValue(name)) // parses the form
		if _, ok := r.PostForm[name]; !ok {
			return nil
		}
		if name == "tax_id" { // a Chinese input method types full-width digits
			v = strings.TrimSpace(width.Narrow.String(v))
		}
		fields = append(fields, [2]string{name, v})
		return &v
	}
	change := commands.DetailsChange{Organisation: given("organisation"), TaxID: given("tax_id"), Address: given("address"),
		Contact: given("contact"), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	h, settle := s.cmds()
	ctx := r.Context()
	back := "/console/accounts/" + url.PathEscape(a.ID)
	if c.FormValue(confirmField) != "yes" {
		was, now, err := h.CheckAccountDetails(ctx, a.ID, change)
		if err != nil {
			return err
		}
		changes := commands.Changes(was, now)
		if len(changes) == 0 {
			return redirectBack(c, back, "details.unchanged")
		}
		facts := [][2]string{{"account", a.ID}}
		for _, ch := range changes {
			facts = append(facts, [2]string{detailLabels[ch.Field], orDash(ch.Was) + " → " + orDash(ch.Now)})
		}
		_, err = s.confirmed(c, confirmStep{Action: "confirm.details", Target: a.Organisation, Note: "confirm.details.note",
			Facts:  append(facts, [2]string{"field.reason", change.Reason}),
			Fields: append(fields, [2]string{"reason", change.Reason}), Post: back + "/details", Back: back})
		return err
	}
	was, now, err := h.ChangeAccountDetails(ctx, a.ID, change)
	if err != nil {
		return err
	}
	if err := settle(ctx); err != nil {
		return err
	}
	if was == now {
		return redirectBack(c, back, "details.unchanged")
	}
	return redirectBack(c, back, "details.saved")
}

// orDash shows an empty detail as a dash.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
