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
		{"group", Claims{"groups": {"eng", "rf-admins"}}, Principal{Staff: true, Role: Admin, Subject: "oidc:s"}, nil},
		{"role first", Claims{"roles": {"books"}, "email": {"a@acme.example"}}, Principal{Staff: true, Role: Finance, Subject: "oidc:s"}, nil},
		{"email domain", Claims{"email": {"Mei@ACME.example"}}, Principal{AccountID: "acct_acme", Management: true, Subject: "oidc:s"}, nil},
		{"custom claim", Claims{"tenant": {"acme"}}, Principal{AccountID: "acct_acme2", Management: true, Subject: "oidc:s"}, nil},
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
