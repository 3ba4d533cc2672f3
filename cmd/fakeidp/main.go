// Command fakeidp is an identity provider for trying the console's single
// sign-on without an organisation's: an OpenID Connect provider
// (oauth2-proxy/mockoidc, real RS256-signed ID tokens) and a SAML IdP
// (crewjam/saml), both signing in the one person the flags describe, without
// a login form. It also writes a key pair for the gateway's SAML SP and
// prints the gateway's settings.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	oidcAddr := flag.String("oidc-listen", "127.0.0.1:8091", "the OpenID Connect provider's address")
	samlAddr := flag.String("saml-listen", "127.0.0.1:8092", "the SAML IdP's address")
	gateway := flag.String("gateway", "http://localhost:8080", "the gateway's public URL (ROUTEFREE_PUBLIC_URL)")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "routefree-fakeidp"), "where the SP key pair is written")
	sub := flag.String("subject", "staff-0001", "the signed-in person's subject (OIDC sub, SAML NameID)")
	email := flag.String("email", "chen@routefree.example", "their verified email address")
	groups := flag.String("groups", "rf-admins", "their groups, comma-separated (OIDC groups claim, SAML eduPersonAffiliation)")
	flag.Parse()
	user := &mockoidc.MockUser{Subject: *sub, Email: *email, EmailVerified: true, Groups: strings.Split(*groups, ",")}

	key, cert := keyPair("routefree fake idp")
	m, err := mockoidc.NewServer(key)
	if err != nil {
		log.Fatal(err)
	}
	// Every sign-in is the flags' person.
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/authorize") {
				m.QueueUser(user)
			}
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *oidcAddr)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		log.Fatal(err)
	}

	spKey, spCert := keyPair("routefree sp")
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		log.Fatal(err)
	}
	keyFile, certFile := filepath.Join(*dir, "sp-key.pem"), filepath.Join(*dir, "sp-cert.pem")
	writePEM(keyFile, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(spKey))
	writePEM(certFile, "CERTIFICATE", spCert.Raw)

	base, _ := url.Parse("http://" + *samlAddr)
	p := &idp{sp: strings.TrimSuffix(*gateway, "/") + "/console/sso/saml/metadata",
		user: saml.Session{NameID: *sub, UserEmail: *email, Groups: user.Groups}}
	p.idp = &saml.IdentityProvider{Key: key, Signer: key, Certificate: cert, MetadataURL: *base.JoinPath("/metadata"),
		SSOURL: *base.JoinPath("/sso"), ServiceProviderProvider: p, SessionProvider: p}
	mux := http.NewServeMux()
	mux.HandleFunc("/sso", p.idp.ServeSSO)
	mux.HandleFunc("/metadata", p.idp.ServeMetadata)

	cfg := m.Config()
	fmt.Printf(`fake identity providers: OpenID Connect at %s, SAML at %s, signing in %s (%s, groups %s)
ROUTEFREE_PUBLIC_URL=%s
ROUTEFREE_OIDC_ISSUER=%s ROUTEFREE_OIDC_CLIENT_ID=%s ROUTEFREE_OIDC_CLIENT_SECRET=%s ROUTEFREE_OIDC_SCOPES='email profile groups'
ROUTEFREE_SAML_IDP_METADATA=%s ROUTEFREE_SAML_SP_KEY=%s ROUTEFREE_SAML_SP_CERT=%s
ROUTEFREE_SSO_ROLES='groups:rf-admins=admin,eduPersonAffiliation:rf-admins=admin' ROUTEFREE_SSO_ACCOUNTS='email_domain:acme.example=acct_acme'
`, cfg.Issuer, base, *sub, *email, *groups, *gateway, cfg.Issuer, cfg.ClientID, cfg.ClientSecret,
		base.JoinPath("/metadata"), keyFile, certFile)
	srv := &http.Server{Addr: *samlAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// idp is the SAML side's session and service provider lookup.
type idp struct {
	idp  *saml.IdentityProvider
	sp   string
	user saml.Session
}

func (p *idp) GetSession(http.ResponseWriter, *http.Request, *saml.IdpAuthnRequest) *saml.Session {
	s := p.user
	s.ID, s.Index = rand.Text(), "1"
	s.CreateTime, s.ExpireTime = time.Now(), time.Now().Add(time.Hour)
	return &s
}

// GetServiceProvider reads the gateway's SP metadata, the one SP it knows.
func (p *idp) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	if id != p.sp {
		return nil, os.ErrNotExist
	}
	resp, err := http.Get(p.sp)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return samlsp.ParseMetadata(b)
}

func keyPair(cn string) (*rsa.PrivateKey, *x509.Certificate) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatal(err)
	}
	return key, cert
}

func writePEM(path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		log.Fatal(err)
	}
}
