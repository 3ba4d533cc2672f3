package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig is an OpenID Connect relying party's settings.
type OIDCConfig struct {
	Issuer       string // the provider's issuer URL, where discovery starts
	ClientID     string
	ClientSecret string
	RedirectURL  string   // …/console/sso/oidc/callback, as registered with the provider
	Scopes       []string // besides openid; nil: email and profile
	Mapping      Mapping
}

// OIDC signs people in with the authorization code flow (with PKCE, state
// and nonce) and maps the verified ID token's claims to a principal.
type OIDC struct {
	cfg OIDCConfig

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewOIDC checks cfg. The provider is discovered on first use, so a
// provider that is down does not stop the gateway from starting.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("auth: OIDC needs an issuer URL, a client ID and a redirect URL")
	}
	if cfg.Mapping.Empty() {
		return nil, errors.New("auth: OIDC needs at least one role or account rule, or nobody could sign in")
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"email", "profile"}
	}
	return &OIDC{cfg: cfg}, nil
}

// Mapping is the rules that map the provider's people.
func (o *OIDC) Mapping() Mapping { return o.cfg.Mapping }

func (o *OIDC) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verifier, nil
	}
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: OIDC discovery at %s: %w", o.cfg.Issuer, err)
	}
	o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, o.cfg.Scopes...)}
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	return o.oauth, o.verifier, nil
}

// OIDCPending is what the browser keeps between leaving for the provider
// and coming back: the state it must return, the nonce the ID token must
// carry and the PKCE verifier that only this browser knows.
type OIDCPending struct {
	State, Nonce, Verifier string
}

// Start returns the provider's authorization URL and what to keep until the
// callback.
func (o *OIDC) Start(ctx context.Context) (string, OIDCPending, error) {
	oc, _, err := o.discover(ctx)
	if err != nil {
		return "", OIDCPending{}, err
	}
	p := OIDCPending{State: oauth2.GenerateVerifier(), Nonce: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier()}
	u := oc.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier))
	return u, p, nil
}

// ErrSSO is a sign-in the provider or the browser got wrong: a refused
// consent, a state that does not match, a token that does not verify.
var ErrSSO = errors.New("single sign-on failed")

// Finish checks the callback's state against pending, redeems the code with
// the PKCE verifier, verifies the ID token (signature, issuer, audience,
// expiry, nonce) and maps its claims.
func (o *OIDC) Finish(ctx context.Context, pending OIDCPending, q url.Values) (Principal, error) {
	if e := q.Get("error"); e != "" {
		return Principal{}, fmt.Errorf("%w: the provider answered %s", ErrSSO, e)
	}
	if pending.State == "" || q.Get("state") != pending.State {
		return Principal{}, fmt.Errorf("%w: state does not match", ErrSSO)
	}
	oc, verifier, err := o.discover(ctx)
	if err != nil {
		return Principal{}, err
	}
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		return Principal{}, fmt.Errorf("%w: redeeming the code: %v", ErrSSO, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return Principal{}, fmt.Errorf("%w: no ID token", ErrSSO)
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrSSO, err)
	}
	if idt.Nonce != pending.Nonce {
		return Principal{}, fmt.Errorf("%w: nonce does not match", ErrSSO)
	}
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrSSO, err)
	}
	return o.cfg.Mapping.Map("oidc:"+idt.Subject, oidcClaims(all))
}

// oidcClaims flattens an ID token's claims to strings. An email the provider
// has not verified is dropped: anyone could claim an address at a mapped
// domain.
func oidcClaims(all map[string]any) Claims {
	c := Claims{}
	for k, v := range all {
		switch v := v.(type) {
		case string:
			c[k] = []string{v}
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					c[k] = append(c[k], s)
				}
			}
		}
	}
	if v, ok := all["email_verified"].(bool); !ok || !v {
		delete(c, "email")
	}
	return c
}
