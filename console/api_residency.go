package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// apiDataRequirement sets an account's data requirement (資料常駐): with
// residency "tw" every request of its keys is served by an upstream in
// Taiwan, with no_retention by one that keeps nothing, or refused. An
// empty body's zero values lift it.
func (s *server) apiDataRequirement(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in struct {
		Residency   string `json:"residency"`
		NoRetention bool   `json:"no_retention"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	ev := domain.DataRequirementSet{AccountID: a.ID, Residency: in.Residency, NoRetention: in.NoRetention}
	if err := h.SetDataRequirement(ctx, ev); err != nil {
		return apiError(err)
	}
	if err := settle(ctx); err != nil {
		return apiError(err)
	}
	v, _ := s.deps.Models.Balances.View(a.ID, "", s.deps.now())
	return c.JSON(http.StatusOK, map[string]any{"data": map[string]any{
		"account_id": a.ID, "residency": v.Residency, "no_retention": v.NoRetention}})
}
