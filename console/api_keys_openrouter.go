package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// registerKeysAPI mounts OpenRouter's key management API (its provisioning
// keys) on /api/v1/keys: a customer's management key lists, creates,
// disables and deletes the account's keys, each within its own limits
// (domain.KeyWithin), as the admin API's key routes do. An inference key
// gets 403; staff use the admin API.
func (s *server) registerKeysAPI(e *echo.Echo) {
	g := e.Group("/api/v1/keys", securityHeaders, noStoreKeys, auth.RequireManagementKey(s.auth))
	g.GET("", s.orListKeys)
	g.POST("", s.orCreateKey)
	g.GET("/:hash", s.orGetKey)
	g.PATCH("/:hash", s.orPatchKey)
	g.DELETE("/:hash", s.orDeleteKey)
	// OpenRouter's activity needs a management key too.
	e.GET("/api/v1/activity", s.orActivity, securityHeaders, noStoreKeys, auth.RequireManagementKey(s.auth))
	// OpenRouter's OAuth PKCE exchange: the code is the credential.
	e.POST("/api/v1/auth/keys", s.orExchangeCode, securityHeaders, noStoreKeys)
}

func noStoreKeys(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// orKey is a key in OpenRouter's shape, every field its SDK's schema
// requires. hash is RouteFree's key ID (the secret's own hash is never
// shown); label is the key's visible prefix; limit and usage are NTD;
// workspace_id is the account; expires_at is the key's expiry in UTC (null:
// never). RouteFree has no bring-your-own-key usage, creators or external
// users: zeros and nulls.
type orKey struct {
	Hash               string   `json:"hash"`
	Name               string   `json:"name"`
	Label              string   `json:"label"`
	Disabled           bool     `json:"disabled"`
	Limit              *float64 `json:"limit"`
	LimitRemaining     *float64 `json:"limit_remaining"`
	LimitReset         *string  `json:"limit_reset"`
	IncludeBYOKInLimit bool     `json:"include_byok_in_limit"`
	Usage              float64  `json:"usage"`
	UsageDaily         float64  `json:"usage_daily"`
	UsageWeekly        float64  `json:"usage_weekly"`
	UsageMonthly       float64  `json:"usage_monthly"`
	BYOKUsage          float64  `json:"byok_usage"`
	BYOKUsageDaily     float64  `json:"byok_usage_daily"`
	BYOKUsageWeekly    float64  `json:"byok_usage_weekly"`
	BYOKUsageMonthly   float64  `json:"byok_usage_monthly"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          *string  `json:"updated_at"`
	CreatorUserID      *string  `json:"creator_user_id"`
	ExternalUser       *string  `json:"external_user"`
	ExpiresAt          *string  `json:"expires_at"`
	WorkspaceID        string   `json:"workspace_id"`
	// RouteFree's own: limit_reset by its own name (never where
	// limit_reset is null with a limit), null without a limit.
	LimitPeriod *string  `json:"limit_period"`
	Models      []string `json:"models,omitempty"`
	Management  bool     `json:"management,omitempty"`
	Currency    string   `json:"currency"`
}

// finite keeps a limit stored before limits were bounded (past a float's
// range) encodable in JSON, as the largest float.
func finite(f float64) float64 {
	if math.IsInf(f, 1) {
		return math.MaxFloat64
	}
	return f
}

func (s *server) orKeyOf(c echo.Context, k projections.KeyInfo) orKey {
	out := orKey{Hash: k.KeyID, Name: k.Name, Label: label(k.Prefix), Disabled: k.Revoked || k.Disabled,
		Models: k.Models, Management: k.Management, Currency: "TWD", WorkspaceID: k.AccountID}
	if !k.ExpiresAt.IsZero() {
		at := k.ExpiresAt.UTC().Format(time.RFC3339)
		out.ExpiresAt = &at
	}
	v, _ := s.deps.Models.Balances.View(k.AccountID, k.KeyID, s.deps.now())
	out.Usage, out.UsageDaily = v.KeyUsed.InexactFloat64(), v.KeyDay.InexactFloat64()
	out.UsageWeekly, out.UsageMonthly = v.KeyWeek.InexactFloat64(), v.KeyMonth.InexactFloat64()
	if k.SpendLimit.IsPositive() {
		limit := finite(k.SpendLimit.InexactFloat64())
		left := finite(decimal.Max(k.SpendLimit.Sub(v.KeySpend), decimal.Zero).InexactFloat64())
		period := k.SpendPeriod
		out.Limit, out.LimitRemaining, out.LimitPeriod = &limit, &left, &period
		if period != projections.PeriodNever { // OpenRouter's null: a total for the key's life
			out.LimitReset = &period
		}
	}
	// The key's stream holds its issue, its changes and, if any, its
	// revocation.
	evs, err := s.deps.Store.ReadStream(c.Request().Context(), domain.KeyStream(k.KeyID), 0, 1000)
	if err == nil && len(evs) > 0 {
		out.CreatedAt = evs[0].OccurredAt.UTC().Format(time.RFC3339)
		if len(evs) > 1 {
			u := evs[len(evs)-1].OccurredAt.UTC().Format(time.RFC3339)
			out.UpdatedAt = &u
		}
	}
	return out
}

// expiryOf is a key's expiry, nil when it never expires.
func expiryOf(k projections.KeyInfo) *time.Time {
	if k.ExpiresAt.IsZero() {
		return nil
	}
	return &k.ExpiresAt
}

// label is a key's visible prefix with one ellipsis: keys issued now store
// it with one, older ones without.
func label(prefix string) string { return strings.TrimSuffix(prefix, "…") + "…" }

// keysPage is how many keys one GET /api/v1/keys returns; ?offset= skips
// that many for the next page (OpenRouter documents the offset, not its
// page size).
const keysPage = 100

func (s *server) orListKeys(c echo.Context) error {
	p := principal(c)
	offset := 0
	if v := c.QueryParam("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "offset must be a whole number of keys to skip, 0 or more")
		}
		offset = n
	}
	// A boolean as clients write one: "true", "True" (Python's requests),
	// "1". Another word is refused rather than read as false, which would
	// leave disabled keys out without a word.
	withDisabled := false
	if v := c.QueryParam("include_disabled"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "include_disabled must be true or false")
		}
		withDisabled = b
	}
	// OpenRouter filters by workspace; RouteFree's workspace is the account,
	// so another one is not found rather than answered with this one's keys.
	if err := ownWorkspace(p, c.QueryParam("workspace_id")); err != nil {
		return err
	}
	// Only the keys within the caller's own limits, as it may change only
	// those (withinCallersKey): a key limited to some models does not see
	// the account's other keys.
	keys := s.deps.Models.Keys.ByAccount(p.AccountID)
	var own *domain.KeyIssued
	if !p.Staff && p.KeyID != "" {
		for _, k := range keys {
			if k.KeyID == p.KeyID {
				i := issuedOf(k)
				own = &i
			}
		}
	}
	out := []orKey{}
	skipped := 0
	for _, k := range keys {
		if (k.Revoked || k.Disabled) && !withDisabled {
			continue
		}
		if own != nil && domain.KeyWithin(*own, issuedOf(k)) != nil {
			continue
		}
		if skipped < offset {
			skipped++
			continue
		}
		if len(out) == keysPage {
			break
		}
		out = append(out, s.orKeyOf(c, k))
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// orKeyInput is OpenRouter's create body: name and limit (NTD), plus
// RouteFree's limit period, models and management scope. LimitReset is
// OpenRouter's name for the limit's period: left out or null, as on
// OpenRouter, the limit never resets (a total for the key's life;
// RouteFree's limit_period says never); include_byok_in_limit is accepted
// and not acted on; expires_at is an ISO 8601 UTC instant, as OpenRouter
// takes it (other time zones are refused); workspace_id must be the
// management key's account (the workspace) when given; creator_user_id and
// external (a partner's user) are checked and not kept (RouteFree has no
// creators or external users).
type orKeyInput struct {
	Name        string
	Limit       *decimal.Decimal
	LimitPeriod string
	LimitReset  *string
	Models      []string
	Management  bool
	ExpiresAt   *time.Time
	Workspace   string // "": none given
}

// utcInstant reads an ISO 8601 instant written in UTC ("…Z" or "…+00:00").
func utcInstant(field string, raw json.RawMessage) (*time.Time, error) {
	var s string
	if err := orField(field, raw, &s, "an ISO 8601 UTC timestamp (2027-12-31T23:59:59Z) or null"); err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s: %s is not an ISO 8601 timestamp such as 2027-12-31T23:59:59Z", field, domain.Quote(s)))
	}
	if _, offset := t.Zone(); offset != 0 {
		return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s: %s is not in UTC: write it with Z (%s)", field, domain.Quote(s), t.UTC().Format(time.RFC3339)))
	}
	t = t.UTC()
	return &t, nil
}

// ownWorkspace refuses a workspace other than the caller's account, which
// is RouteFree's workspace: a list of another's would answer the caller's
// keys under its name, and a key made there would be the caller's. An
// empty one is none.
func ownWorkspace(p auth.Principal, ws string) error {
	if ws != "" && ws != p.AccountID {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("workspace %q not found: a key's workspace is its account, %s", ws, p.AccountID))
	}
	return nil
}

// orBodyFields splits a key body into its fields, refusing a body that is
// not an object, a field given twice in different letter case, and two
// different periods.
func orBodyFields(b []byte) (map[string]json.RawMessage, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil || body == nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "the request body must be a JSON object")
	}
	seen := make(map[string]string, len(body))
	for k := range body {
		if prev, ok := seen[strings.ToLower(k)]; ok {
			return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s and %s are the same field: give it once", prev, k))
		}
		seen[strings.ToLower(k)] = k
	}
	// limit_period is limit_reset's synonym: given both, the period would
	// be whichever of the two was read last. A key's answer gives a limit
	// that never resets as null and as "never": sent back, that is one.
	reset, period := seen["limit_reset"], seen["limit_period"]
	if reset != "" && period != "" && samePeriod(body[reset]) != samePeriod(body[period]) {
		return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s and %s name the same setting, the limit's period: give one, or both alike", reset, period))
	}
	return body, nil
}

// samePeriod is a limit's period as sent, written one way: null and
// "never" alike.
func samePeriod(raw json.RawMessage) string {
	if raw = bytes.TrimSpace(raw); string(raw) == `"never"` {
		return "null"
	}
	return string(raw)
}

// orField decodes one field of a key body into v. A value of another type
// is refused in JSON's terms, naming the field as the client sent it, as
// the model endpoints do ("limit: must be a number of NTD or null, got
// string").
func orField(field string, raw json.RawMessage, v any, want string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s: must be %s, got %s", field, want, rawKind(raw)))
	}
	return nil
}

// orLimit decodes a spending limit: a JSON number or null. The decimal
// type would also read a number written as a string ("5"), which
// OpenRouter's schema refuses and this API's message says it refuses.
func orLimit(field string, raw json.RawMessage, v **decimal.Decimal) error {
	if rawKind(raw) == "string" {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s: must be %s, got string", field, wantLimit))
	}
	return orField(field, raw, v, wantLimit)
}

// orExternal checks create's partner identity as OpenRouter's schema has
// it, {"user": string, "api_key"?: string}; it is not kept (RouteFree has
// no external users: the key's external_user stays null).
func orExternal(field string, raw json.RawMessage) error {
	var ext map[string]json.RawMessage
	if err := orField(field, raw, &ext, "an object with user"); err != nil {
		return err
	}
	if _, ok := ext["user"]; !ok {
		return echo.NewHTTPError(http.StatusBadRequest, field+".user is required")
	}
	for k, v := range ext {
		switch k {
		case "user", "api_key":
			var s string
			if err := orField(field+"."+k, v, &s, "a string"); err != nil {
				return err
			}
		default:
			return echo.NewHTTPError(http.StatusBadRequest, "unknown field "+field+"."+k)
		}
	}
	return nil
}

// rawKind names the JSON type of a well-formed value.
func rawKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// What each field of a key body must be, in JSON's terms.
const (
	wantLimit  = "a number of NTD or null"
	wantPeriod = "daily, weekly, monthly or null (never resets)"
	wantBool   = "true or false"
)

// decodeCreate reads OpenRouter's create body. What it may ask for and
// RouteFree would not keep is refused, not dropped: the key would behave
// otherwise than asked.
func decodeCreate(b []byte) (orKeyInput, error) {
	var in orKeyInput
	body, err := orBodyFields(b)
	if err != nil {
		return in, err
	}
	// Fields are read in any letter case, as encoding/json reads a struct.
	for field, v := range body {
		null := string(v) == "null"
		switch strings.ToLower(field) {
		case "name":
			err = orField(field, v, &in.Name, "a string")
		case "limit":
			err = orLimit(field, v, &in.Limit)
		case "limit_reset":
			err = orField(field, v, &in.LimitReset, wantPeriod)
		case "limit_period":
			err = orField(field, v, &in.LimitPeriod, wantPeriod)
		case "models":
			var ids []json.RawMessage
			if err = orField(field, v, &ids, "an array of model IDs"); err == nil && ids != nil {
				in.Models = make([]string, len(ids))
				for i, id := range ids {
					if err = orField(fmt.Sprintf("%s[%d]", field, i), id, &in.Models[i], "a string, a model ID"); err != nil {
						break
					}
				}
			}
		case "management":
			err = orField(field, v, &in.Management, wantBool)
		case "include_byok_in_limit":
			var byok *bool
			err = orField(field, v, &byok, wantBool)
		case "expires_at":
			if !null {
				in.ExpiresAt, err = utcInstant(field, v)
			}
		case "workspace_id":
			var s *string
			if err = orField(field, v, &s, "a string or null"); err == nil && s != nil {
				in.Workspace = *s
			}
		case "creator_user_id":
			var s *string
			err = orField(field, v, &s, "a string or null")
		case "external":
			err = orExternal(field, v)
		default:
			// A misspelt field (limitReset) would leave its default in force.
			err = echo.NewHTTPError(http.StatusBadRequest, "unknown field "+field)
		}
		if err != nil {
			return in, err
		}
	}
	return in, nil
}

func (s *server) orCreateKey(c echo.Context) error {
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	in, err := decodeCreate(b)
	if err != nil {
		return err
	}
	if strings.TrimSpace(in.Name) == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "name is required")
	}
	ki := keyInput{Name: in.Name, Models: in.Models, SpendLimit: in.Limit, SpendPeriod: in.LimitPeriod, Management: in.Management, ExpiresAt: in.ExpiresAt}
	if in.LimitReset != nil && in.LimitPeriod == "" {
		ki.SpendPeriod = *in.LimitReset // OpenRouter's daily | weekly | monthly
	}
	if ki.SpendPeriod == "" {
		ki.SpendPeriod = projections.PeriodNever // OpenRouter's default, limit_reset null
	}
	p := principal(c)
	if err := ownWorkspace(p, in.Workspace); err != nil {
		return err
	}
	id, secret, err := s.issueKey(c.Request().Context(), p, p.AccountID, ki)
	if err != nil {
		return keyRefusal(c, err)
	}
	k, ok := s.keyOfAccount(p.AccountID, id)
	if !ok {
		return errNotFound("key")
	}
	return c.JSON(http.StatusCreated, map[string]any{"data": s.orKeyOf(c, k), "key": secret})
}

// keyOfAccount finds one of an account's keys.
func (s *server) keyOfAccount(account, id string) (projections.KeyInfo, bool) {
	if k, ok := s.deps.Models.Keys.Get(id); ok && k.AccountID == account {
		return k, true
	}
	return projections.KeyInfo{}, false
}

// target is the route's key if the caller may act on it: one of its
// account's keys, within its own key's limits.
func (s *server) orTarget(c echo.Context) (projections.KeyInfo, error) {
	p := principal(c)
	var k projections.KeyInfo
	ok := false
	s.findCaughtUp(c, func() bool { k, ok = s.keyOfAccount(p.AccountID, c.Param("hash")); return ok })
	if !ok {
		return k, errNotFound("key")
	}
	return k, apiError(s.withinCallersKey(p, issuedOf(k)))
}

func (s *server) orGetKey(c echo.Context) error {
	k, err := s.orTarget(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": s.orKeyOf(c, k)})
}

// orPatchKey is OpenRouter's update: name, limit (NTD; null lifts it, 0 is
// refused rather than read as none), limit_reset (daily, weekly, monthly
// or null, a limit that never resets; left out, the period the key's
// answer shows is kept, null for a key without a limit, as on OpenRouter) and
// disabled, which stops the key or lets it work again (a deleted key stays
// deleted). While the account is suspended a customer may not enable a key
// nor raise or lift its limit (errSuspendedKeys).
// include_byok_in_limit is accepted and not acted on (RouteFree has no
// bring-your-own-key usage). expires_at, which OpenRouter takes on create
// only, sets, moves or clears (null) the key's expiry, checked as on
// create; while the account is suspended it may only come sooner. Fields
// left out keep their value. A management
// key changes only keys within its own limits, and into keys within them.
// The whole body is checked before anything is written.
func (s *server) orPatchKey(c echo.Context) error {
	k, err := s.orTarget(c)
	if err != nil {
		return err
	}
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	in, err := orBodyFields(b)
	if err != nil {
		return err
	}
	// A key without a limit shows limit_reset null: a limit given later
	// without a period never resets, as on OpenRouter, whatever period the
	// key had before.
	ch := keyChange{Name: k.Name, SpendLimit: k.SpendLimit, SpendPeriod: projections.PeriodNever}
	if k.SpendLimit.IsPositive() {
		ch.SpendPeriod = k.SpendPeriod
	}
	changed := false
	var disable *bool
	var expiry **time.Time // set: the key's new expiry (nil inside: never)
	for field, v := range in {
		null := string(v) == "null"
		switch field {
		case "disabled":
			var d bool
			if err := orField(field, v, &d, wantBool); err != nil {
				return err
			}
			if null {
				return echo.NewHTTPError(http.StatusBadRequest, "disabled: must be true or false, got null")
			}
			disable = &d
		case "name":
			if err := orField(field, v, &ch.Name, "a non-empty string"); err != nil {
				return err
			}
			if null || strings.TrimSpace(ch.Name) == "" {
				return echo.NewHTTPError(http.StatusBadRequest, "name: must be a non-empty string")
			}
			changed = true
		case "limit":
			var given *decimal.Decimal // null lifts the limit
			if err := orLimit(field, v, &given); err != nil {
				return err
			}
			if ch.SpendLimit, err = commands.GivenSpendLimit(given); err != nil {
				return apiError(err)
			}
			changed = true
		case "limit_reset", "limit_period":
			if err := orField(field, v, &ch.SpendPeriod, wantPeriod); err != nil {
				return err
			}
			if null {
				ch.SpendPeriod = projections.PeriodNever // OpenRouter's limit that never resets
			}
			changed = true
		case "include_byok_in_limit":
			var b bool
			if err := orField(field, v, &b, wantBool); err != nil {
				return err
			}
		case "expires_at":
			// RouteFree's own on PATCH (OpenRouter takes it on create
			// only), read as create reads it; null: never.
			var at *time.Time
			if !null {
				if at, err = utcInstant(field, v); err != nil {
					return err
				}
				if !at.Truncate(time.Second).After(s.deps.now()) {
					return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s: a key's expiry must be in the future (%s given)", field, at.Format(time.RFC3339)))
				}
			}
			expiry = &at
		default:
			return echo.NewHTTPError(http.StatusBadRequest, "unknown field "+field)
		}
	}
	if k.Revoked && (changed || expiry != nil || disable != nil && !*disable) {
		return echo.NewHTTPError(http.StatusBadRequest, "a deleted key cannot be changed or enabled: create a new key")
	}
	ctx := c.Request().Context()
	// Refusals of a suspended account come before anything is written.
	if disable != nil && !*disable && k.Disabled || expiry != nil && expiresLater(expiryOf(k), *expiry) {
		if err := s.refuseIfSuspended(ctx, principal(c), k.AccountID); err != nil {
			return err
		}
	}
	if changed && expiry != nil {
		if err := s.wholeChangeWithin(principal(c), k, ch, expiry); err != nil {
			return err
		}
	}
	if changed {
		if k, err = s.changeKey(ctx, principal(c), k, ch); err != nil {
			return err
		}
	}
	if expiry != nil {
		if k, err = s.changeKeyExpiry(ctx, principal(c), k, *expiry); err != nil {
			return err
		}
	}
	if disable != nil && !k.Revoked && *disable != k.Disabled {
		if err := s.setKeyDisabled(ctx, k.KeyID, *disable); err != nil {
			return apiError(err)
		}
		k.Disabled = *disable
	}
	return c.JSON(http.StatusOK, map[string]any{"data": s.orKeyOf(c, k)})
}

// orDeleteKey revokes the key; its history stays in the event store.
func (s *server) orDeleteKey(c echo.Context) error {
	k, err := s.orTarget(c)
	if err != nil {
		return err
	}
	if !k.Revoked {
		if err := s.revokeKey(c.Request().Context(), k.KeyID); err != nil {
			return apiError(err)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"deleted": true})
}
