package main

import (
	"context"
	"strings"
	"testing"
)

// Single sign-on settings that cannot work stop the start with the variable
// to fix; none at all leaves SSO off.
func TestOpenSSOSettings(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	o, s, err := openSSO(context.Background(), env(nil))
	if o != nil || s != nil || err != nil {
		t.Fatalf("no settings: %v %v %v", o, s, err)
	}
	for name, c := range map[string]struct {
		kv   map[string]string
		want string
	}{
		"no rules":      {map[string]string{envOIDCIssuer: "https://idp.example", envOIDCClientID: "c", envOIDCRedirectURL: "https://gw/cb"}, "rule"},
		"bad role":      {map[string]string{envOIDCIssuer: "https://idp.example", envSSORoles: "groups:x=root"}, "not a role"},
		"no client":     {map[string]string{envOIDCIssuer: "https://idp.example", envSSORoles: "groups:x=admin"}, envOIDCClientID},
		"saml, no url":  {map[string]string{envSAMLIDPMetadata: "/nonexistent.xml", envSSORoles: "groups:x=admin"}, "ROUTEFREE_PUBLIC_URL"},
		"saml, no file": {map[string]string{envSAMLIDPMetadata: "/nonexistent.xml", envSSORoles: "groups:x=admin", "ROUTEFREE_PUBLIC_URL": "https://gw.example"}, envSAMLIDPMetadata},
	} {
		_, _, err := openSSO(context.Background(), env(c.kv))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
	}
	o, _, err = openSSO(context.Background(), env(map[string]string{envOIDCIssuer: "https://idp.example", envOIDCClientID: "c",
		envSSORoles: "groups:x=admin", "ROUTEFREE_PUBLIC_URL": "https://gw.example/"}))
	if err != nil || o == nil {
		t.Fatalf("OIDC with the public URL as the callback's base: %v", err)
	}
}
