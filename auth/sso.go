package auth

import (
	"errors"
	"fmt"
	"strings"
)

// Single sign-on (OpenID Connect and SAML) ends in the same place: the
// claims or attributes the organisation's identity provider asserted about a
// person, mapped by configured rules to a staff role or to a customer
// account. Nothing is created for a person no rule maps: they are refused.

// Rule maps one claim value to a role or an account: "groups:rf-admins=admin"
// reads "whoever's groups claim holds rf-admins is an admin". The claim
// "email_domain" is the part after the @ of the email claim.
type Rule struct {
	Claim, Value, To string
}

// String is the rule as it is configured: "claim:value=target".
func (r Rule) String() string { return r.Claim + ":" + r.Value + "=" + r.To }

// Mapping is the configured rules: Roles map to staff roles, Accounts to
// customer accounts. The first matching rule wins, roles before accounts.
type Mapping struct {
	Roles    []Rule
	Accounts []Rule
}

// ErrUnmapped is a person the identity provider vouched for but whom no rule
// maps to a role or an account.
var ErrUnmapped = errors.New("no role or account is mapped to this person")

// ErrSSOUnavailable is a sign-in that cannot be completed right now through
// no fault of the person's or the provider's: a SAML response that could not
// be recorded as used (Redis unreachable), whose replay could then not be
// told, is refused. Signing in again shortly may succeed.
var ErrSSOUnavailable = errors.New("single sign-on is unavailable right now")

// ParseRules reads rules written as "claim:value=target", separated by
// commas or newlines, e.g. "groups:rf-admins=admin, email_domain:acme.com.tw=acct_acme".
func ParseRules(s string) ([]Rule, error) {
	var rules []Rule
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		lhs, to, ok1 := strings.Cut(f, "=")
		claim, value, ok2 := strings.Cut(lhs, ":")
		claim, value, to = strings.TrimSpace(claim), strings.TrimSpace(value), strings.TrimSpace(to)
		if !ok1 || !ok2 || claim == "" || value == "" || to == "" {
			return nil, fmt.Errorf("auth: rule %q: want claim:value=target", f)
		}
		rules = append(rules, Rule{Claim: claim, Value: value, To: to})
	}
	return rules, nil
}

// ParseMapping reads the role and account rules and checks that every role
// rule names a known role.
func ParseMapping(roles, accounts string) (Mapping, error) {
	var m Mapping
	var err error
	if m.Roles, err = ParseRules(roles); err != nil {
		return Mapping{}, err
	}
	for _, r := range m.Roles {
		if !Role(r.To).Valid() {
			return Mapping{}, fmt.Errorf("auth: rule %s:%s=%s: %q is not a role (admin, finance or auditor)", r.Claim, r.Value, r.To, r.To)
		}
	}
	if m.Accounts, err = ParseRules(accounts); err != nil {
		return Mapping{}, err
	}
	return m, nil
}

// Empty reports whether no rule is configured.
func (m Mapping) Empty() bool { return len(m.Roles) == 0 && len(m.Accounts) == 0 }

// Claims are what an identity provider asserted, each claim with its values
// (a single-valued claim has one).
type Claims map[string][]string

// Map turns the person subject (already prefixed by protocol, e.g.
// "oidc:248289761001") with claims into a principal: a staff member with the
// role of the first matching role rule, else the owner of the account of the
// first matching account rule, else ErrUnmapped. The principal names the
// rule (Principal.Rule), so that Keeps can tell later whether it still holds.
func (m Mapping) Map(subject string, claims Claims) (Principal, error) {
	for _, r := range m.Roles {
		if claims.has(r.Claim, r.Value) {
			return Principal{Staff: true, Role: Role(r.To), Subject: subject, Rule: r.String()}, nil
		}
	}
	for _, r := range m.Accounts {
		if claims.has(r.Claim, r.Value) {
			return Principal{AccountID: r.To, Management: true, Subject: subject, Rule: r.String()}, nil
		}
	}
	return Principal{}, ErrUnmapped
}

// Keeps reports whether the rule that mapped p is still one of m's, with
// the same role or account: a person signed in under a rule the operator
// has since removed or pointed elsewhere is no longer who they were
// signed in as. The identity provider's own changes (a person leaving a
// group) reach the gateway only at their next sign-in.
func (m Mapping) Keeps(p Principal) bool {
	rules, to := m.Accounts, p.AccountID
	if p.Staff {
		rules, to = m.Roles, string(p.Role)
	}
	for _, r := range rules {
		if r.String() == p.Rule && r.To == to {
			return true
		}
	}
	return false
}

func (c Claims) has(claim, value string) bool {
	if claim == "email_domain" {
		for _, e := range c["email"] {
			if _, d, ok := strings.Cut(e, "@"); ok && strings.EqualFold(d, value) {
				return true
			}
		}
		return false
	}
	for _, v := range c[claim] {
		if v == value {
			return true
		}
	}
	return false
}
