package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/payments"
)

// Single sign-on settings, from the environment or the config file (no flag
// carries them: the client secret stays out of process lists).
const (
	envOIDCIssuer       = "ROUTEFREE_OIDC_ISSUER"
	envOIDCClientID     = "ROUTEFREE_OIDC_CLIENT_ID"
	envOIDCClientSecret = "ROUTEFREE_OIDC_CLIENT_SECRET"
	envOIDCRedirectURL  = "ROUTEFREE_OIDC_REDIRECT_URL"
	envOIDCScopes       = "ROUTEFREE_OIDC_SCOPES"
	envSAMLIDPMetadata  = "ROUTEFREE_SAML_IDP_METADATA"
	envSAMLSPKey        = "ROUTEFREE_SAML_SP_KEY"
	envSAMLSPCert       = "ROUTEFREE_SAML_SP_CERT"
	envSSORoles         = "ROUTEFREE_SSO_ROLES"
	envSSOAccounts      = "ROUTEFREE_SSO_ACCOUNTS"
)

var ssoSettings = []string{envOIDCIssuer, envOIDCClientID, envOIDCClientSecret, envOIDCRedirectURL, envOIDCScopes,
	envSAMLIDPMetadata, envSAMLSPKey, envSAMLSPCert, envSSORoles, envSSOAccounts, payments.EnvPublicURL}

// openSSO turns on OIDC when ROUTEFREE_OIDC_ISSUER is set and SAML when
// ROUTEFREE_SAML_IDP_METADATA is, both mapped by ROUTEFREE_SSO_ROLES and
// ROUTEFREE_SSO_ACCOUNTS.
func openSSO(ctx context.Context, getenv func(string) string) (*auth.OIDC, *auth.SAML, error) {
	if getenv(envOIDCIssuer) == "" && getenv(envSAMLIDPMetadata) == "" {
		return nil, nil, nil
	}
	m, err := auth.ParseMapping(getenv(envSSORoles), getenv(envSSOAccounts))
	if err != nil {
		return nil, nil, fmt.Errorf("sso: %w", err)
	}
	public := strings.TrimSuffix(getenv(payments.EnvPublicURL), "/")
	var o *auth.OIDC
	if iss := getenv(envOIDCIssuer); iss != "" {
		redirect := getenv(envOIDCRedirectURL)
		if redirect == "" && public != "" {
			redirect = public + "/console/sso/oidc/callback"
		}
		var scopes []string
		if s := getenv(envOIDCScopes); s != "" {
			scopes = strings.Fields(s)
		}
		if o, err = auth.NewOIDC(auth.OIDCConfig{Issuer: iss, ClientID: getenv(envOIDCClientID), ClientSecret: getenv(envOIDCClientSecret),
			RedirectURL: redirect, Scopes: scopes, Mapping: m}); err != nil {
			return nil, nil, fmt.Errorf("sso: %w (%s, %s, and %s or %s)", err, envOIDCIssuer, envOIDCClientID, envOIDCRedirectURL, payments.EnvPublicURL)
		}
	}
	var s *auth.SAML
	if md := getenv(envSAMLIDPMetadata); md != "" {
		if s, err = openSAML(ctx, getenv, public, md, m); err != nil {
			return nil, nil, fmt.Errorf("sso: SAML: %w", err)
		}
	}
	return o, s, nil
}

func openSAML(ctx context.Context, getenv func(string) string, public, metadata string, m auth.Mapping) (*auth.SAML, error) {
	base, err := url.Parse(public)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("%s must be the gateway's public URL (the SP's entity ID and ACS derive from it)", payments.EnvPublicURL)
	}
	var idp *saml.EntityDescriptor
	if u, err := url.Parse(metadata); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		idp, err = samlsp.FetchMetadata(ctx, nil, *u)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envSAMLIDPMetadata, err)
		}
	} else {
		b, err := os.ReadFile(metadata)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envSAMLIDPMetadata, err)
		}
		if idp, err = samlsp.ParseMetadata(b); err != nil {
			return nil, fmt.Errorf("%s: %w", envSAMLIDPMetadata, err)
		}
	}
	key, cert, err := spKeyPair(getenv(envSAMLSPKey), getenv(envSAMLSPCert))
	if err != nil {
		return nil, err
	}
	return auth.NewSAML(auth.SAMLConfig{BaseURL: *base, Key: key, Certificate: cert, IDPMetadata: idp, Mapping: m})
}

// spKeyPair reads the SP's RSA key (PKCS #1 or #8) and certificate from PEM files.
func spKeyPair(keyFile, certFile string) (*rsa.PrivateKey, *x509.Certificate, error) {
	if keyFile == "" || certFile == "" {
		return nil, nil, fmt.Errorf("%s and %s must name the SP's PEM key and certificate", envSAMLSPKey, envSAMLSPCert)
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	kp, _ := pem.Decode(kb)
	cp, _ := pem.Decode(cb)
	if kp == nil || cp == nil {
		return nil, nil, errors.New("the SP key or certificate is not PEM")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(kp.Bytes); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(kp.Bytes); err == nil {
		var ok bool
		if key, ok = k.(*rsa.PrivateKey); !ok {
			return nil, nil, fmt.Errorf("%s: the SP key must be RSA", envSAMLSPKey)
		}
	} else {
		return nil, nil, fmt.Errorf("%s: %w", envSAMLSPKey, err)
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", envSAMLSPCert, err)
	}
	return key, cert, nil
}
