package auth

import (
	"errors"
	"testing"

	"github.com/routefree/routefree/domain"
)

func TestMappingMapsRolesBeforeAccounts(t *testing.T) {
	m, err := ParseMapping("groups:rf-admins=admin,\n roles:books=finance", "email_domain:acme.example=acct_acme, tenant:acme=acct_acme2")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		claims Claims
		want   Principal
		err    error
	}{
		{"group", Claims{"groups": {"eng", "rf-admins"}}, Principal{Staff: true, Role: Admin, Subject: "oidc:s", Rule: "groups:rf-admins=admin"}, nil},
		{"role first", Claims{"roles": {"books"}, "email": {"a@acme.example"}}, Principal{Staff: true, Role: Finance, Subject: "oidc:s", Rule: "roles:books=finance"}, nil},
		{"email domain", Claims{"email": {"Mei@ACME.example"}}, Principal{AccountID: "acct_acme", Management: true, Subject: "oidc:s", Rule: "email_domain:acme.example=acct_acme"}, nil},
		{"custom claim", Claims{"tenant": {"acme"}}, Principal{AccountID: "acct_acme2", Management: true, Subject: "oidc:s", Rule: "tenant:acme=acct_acme2"}, nil},
		{"subdomain is not the domain", Claims{"email": {"x@evil.acme.example"}}, Principal{}, ErrUnmapped},
		{"nobody", Claims{"groups": {"eng"}}, Principal{}, ErrUnmapped},
	}
	for _, c := range cases {
		got, err := m.Map("oidc:s", c.claims)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v, %v", c.name, got, err, c.want, c.err)
		}
	}
}

// A person keeps who they were mapped as while the rule that mapped them
// is configured with the same target, wherever it now stands among the
// rules.
func TestMappingKeepsWhomItsRuleStillMaps(t *testing.T) {
	before, err := ParseMapping("groups:rf-admins=admin", "tenant:acme=acct_acme")
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := before.Map("oidc:s", Claims{"groups": {"rf-admins"}})
	owner, _ := before.Map("oidc:s", Claims{"tenant": {"acme"}})
	for _, c := range []struct {
		roles, accounts  string
		keepsA, keepsOwn bool
	}{
		{"groups:rf-admins=admin", "tenant:acme=acct_acme", true, true},
		{"roles:books=finance, groups:rf-admins=admin", "tenant:x=acct_x, tenant:acme=acct_acme", true, true},
		{"groups:rf-admins=auditor", "tenant:acme=acct_other", false, false},
		{"roles:books=finance", "tenant:other=acct_acme", false, false},
		{"", "groups:rf-admins=admin", false, false}, // an account rule that reads alike makes no one staff
	} {
		after, err := ParseMapping(c.roles, c.accounts)
		if err != nil {
			t.Fatal(err)
		}
		if got := after.Keeps(admin); got != c.keepsA {
			t.Errorf("roles %q, accounts %q: admin kept %v, want %v", c.roles, c.accounts, got, c.keepsA)
		}
		if got := after.Keeps(owner); got != c.keepsOwn {
			t.Errorf("roles %q, accounts %q: owner kept %v, want %v", c.roles, c.accounts, got, c.keepsOwn)
		}
	}
}

func TestParseMappingRefusesBadRules(t *testing.T) {
	for _, roles := range []string{"groups:x=root", "groups=admin", ":x=admin", "groups:x="} {
		if _, err := ParseMapping(roles, ""); err == nil {
			t.Errorf("%q accepted", roles)
		}
	}
}

func TestSignedInPeopleActUnderTheirSubject(t *testing.T) {
	staff := Principal{Staff: true, Role: Auditor, Subject: "saml:lin@books.example"}
	if got, want := staff.Actor(), (domain.Actor{Kind: domain.ActorStaff, ID: "saml:lin@books.example", Role: "auditor"}); got != want {
		t.Errorf("staff actor %+v, want %+v", got, want)
	}
	cust := Principal{AccountID: "acct_acme", Management: true, Subject: "oidc:7"}
	if got, want := cust.Actor(), (domain.Actor{Kind: domain.ActorMember, ID: "oidc:7"}); got != want {
		t.Errorf("customer actor %+v, want %+v", got, want)
	}
	token := Principal{Staff: true, Role: Admin, TokenID: "stf_1"}
	if got := token.Actor(); got.ID != "stf_1" || got.Kind != domain.ActorStaff {
		t.Errorf("token actor %+v", got)
	}
}
