package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"
)

// SAMLConfig is a SAML service provider's settings.
type SAMLConfig struct {
	// BaseURL is the gateway's public URL, e.g. https://gw.example.com: the
	// metadata is served at /console/sso/saml/metadata (also the SP's entity
	// ID) and assertions are posted to /console/sso/saml/acs.
	BaseURL     url.URL
	Key         *rsa.PrivateKey   // the SP's key: signs requests, decrypts assertions
	Certificate *x509.Certificate // its certificate, published in the metadata
	IDPMetadata *saml.EntityDescriptor
	Mapping     Mapping
}

// SAML signs people in with the SP-initiated Web Browser SSO profile
// (redirect binding out, POST binding back) and maps the signed assertion's
// attributes to a principal.
type SAML struct {
	sp       saml.ServiceProvider
	mapping  Mapping
	relayKey []byte
	now      func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // request IDs answered, until their relay state expires
	// shared, when set, records the answered request IDs for every gateway
	// instance in place of used.
	shared AnsweredRequests
}

// AnsweredRequests records the SAML requests answered, shared by every
// gateway instance, so that a response posted again is a replay whichever
// instance it reaches.
type AnsweredRequests interface {
	// FirstUse records that request id has been answered, to be remembered
	// until until, and reports whether it had not been before.
	FirstUse(ctx context.Context, id string, until time.Time) (bool, error)
}

// ShareAnswered makes the service provider record the requests answered in
// a, which every instance shares. Call it before serving.
func (s *SAML) ShareAnswered(a AnsweredRequests) { s.shared = a }

// SAML sign-in paths, under the gateway's base URL.
const (
	SAMLMetadataPath = "/console/sso/saml/metadata"
	SAMLACSPath      = "/console/sso/saml/acs"
)

// samlRequestTTL is how long a sign-in started here may take at the IdP.
const samlRequestTTL = 10 * time.Minute

// NewSAML checks cfg and builds the service provider.
func NewSAML(cfg SAMLConfig) (*SAML, error) {
	if cfg.BaseURL.Host == "" || cfg.Key == nil || cfg.Certificate == nil || cfg.IDPMetadata == nil {
		return nil, errors.New("auth: SAML needs the gateway's base URL, the SP key and certificate, and the IdP's metadata")
	}
	if cfg.Mapping.Empty() {
		return nil, errors.New("auth: SAML needs at least one role or account rule, or nobody could sign in")
	}
	md, acs := cfg.BaseURL, cfg.BaseURL
	md.Path, acs.Path = SAMLMetadataPath, SAMLACSPath
	// The relay state is signed with a key derived from the SP key, so every
	// gateway instance sharing the SP key accepts the others' sign-ins.
	mac := sha256.Sum256(append([]byte("routefree saml relay state\x00"), x509.MarshalPKCS1PrivateKey(cfg.Key)...))
	return &SAML{
		sp: saml.ServiceProvider{EntityID: md.String(), Key: cfg.Key, Certificate: cfg.Certificate,
			MetadataURL: md, AcsURL: acs, IDPMetadata: cfg.IDPMetadata,
			SignatureMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"},
		mapping: cfg.Mapping, relayKey: mac[:], now: time.Now, used: map[string]time.Time{},
	}, nil
}

// Mapping is the rules that map the IdP's people.
func (s *SAML) Mapping() Mapping { return s.mapping }

// Metadata is the SP's metadata XML, for the IdP's administrator.
func (s *SAML) Metadata() ([]byte, error) {
	b, err := xml.MarshalIndent(s.sp.Metadata(), "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}

// Start returns the IdP URL to send the browser to. The relay state carries
// the request's ID and expiry under an HMAC, so the ACS accepts only an
// answer to a request made here, and in time. browser, when not empty, is
// a secret the starting browser keeps (a cookie): the relay state carries
// its digest, and Finish takes the answer only from a browser holding it.
func (s *SAML) Start(browser string) (string, error) {
	req, err := s.sp.MakeAuthenticationRequest(s.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", fmt.Errorf("auth: SAML request: %w", err)
	}
	u, err := req.Redirect(s.relayState(req.ID, s.now().Add(samlRequestTTL), browserDigest(browser)), &s.sp)
	if err != nil {
		return "", fmt.Errorf("auth: SAML request: %w", err)
	}
	return u.String(), nil
}

// SAMLRequestTTL is how long a started SAML sign-in may be answered.
const SAMLRequestTTL = samlRequestTTL

// browserDigest is what a relay state carries of the starting browser's
// secret: "" for none.
func browserDigest(browser string) string {
	if browser == "" {
		return ""
	}
	d := sha256.Sum256([]byte("routefree saml browser\x00" + browser))
	return base64.RawURLEncoding.EncodeToString(d[:])
}

func (s *SAML) relayState(id string, exp time.Time, browser string) string {
	body := id + "|" + strconv.FormatInt(exp.Unix(), 10)
	if browser != "" {
		body += "|" + browser
	}
	m := hmac.New(sha256.New, s.relayKey)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString([]byte(body)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// requestID checks a relay state and returns the request ID it carries,
// with its expiry and the digest of the browser that started it ("" for
// a sign-in started bound to none).
func (s *SAML) requestID(rs string) (string, time.Time, string, bool) {
	b64, sig64, ok := strings.Cut(rs, ".")
	body, err1 := base64.RawURLEncoding.DecodeString(b64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sig64)
	if !ok || err1 != nil || err2 != nil {
		return "", time.Time{}, "", false
	}
	m := hmac.New(sha256.New, s.relayKey)
	m.Write(body)
	if !hmac.Equal(sig, m.Sum(nil)) {
		return "", time.Time{}, "", false
	}
	id, rest, ok := strings.Cut(string(body), "|")
	exp, browser, _ := strings.Cut(rest, "|")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !s.now().Before(time.Unix(unix, 0)) {
		return "", time.Time{}, "", false
	}
	return id, time.Unix(unix, 0), browser, true
}

// firstUse records that request id has been answered, and reports whether
// it had not been before: a response posted again is a replay. The record
// is this instance's unless ShareAnswered gave one that every instance
// shares; without one, a replay on another instance is bounded by the
// relay state's and the assertion's validity.
func (s *SAML) firstUse(ctx context.Context, id string, until time.Time) (bool, error) {
	if s.shared != nil {
		return s.shared.FirstUse(ctx, id, until)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, exp := range s.used {
		if now.After(exp) {
			delete(s.used, k)
		}
	}
	if _, seen := s.used[id]; seen {
		return false, nil
	}
	s.used[id] = until
	return true, nil
}

// Finish verifies the posted response (signature by the IdP's certificate,
// audience, destination, validity window, and that it answers a request
// started here, from the browser that started it when Start bound it to
// one) and maps its attributes. Attributes are known by their name and by
// their friendly name; "mail" also counts as "email".
func (s *SAML) Finish(r *http.Request, browser string) (Principal, error) {
	if err := r.ParseForm(); err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrSSO, err)
	}
	id, exp, bound, ok := s.requestID(r.PostForm.Get("RelayState"))
	if !ok {
		return Principal{}, fmt.Errorf("%w: the relay state is missing, forged or expired", ErrSSO)
	}
	if bound != "" && !hmac.Equal([]byte(bound), []byte(browserDigest(browser))) {
		return Principal{}, fmt.Errorf("%w: this sign-in was started in another browser; start it again here", ErrSSO)
	}
	a, err := s.sp.ParseResponse(r, []string{id})
	if err != nil {
		var ie *saml.InvalidResponseError
		if errors.As(err, &ie) {
			err = ie.PrivateErr
		}
		return Principal{}, fmt.Errorf("%w: %v", ErrSSO, err)
	}
	first, err := s.firstUse(r.Context(), id, exp)
	if err != nil { // cannot tell a replay: refuse rather than sign in twice
		return Principal{}, fmt.Errorf("%w: recording the SAML response as used: %w", ErrSSOUnavailable, err)
	}
	if !first {
		return Principal{}, fmt.Errorf("%w: this response was used already", ErrSSO)
	}
	if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value == "" {
		return Principal{}, fmt.Errorf("%w: the assertion names no subject", ErrSSO)
	}
	c := Claims{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				for _, n := range []string{at.Name, at.FriendlyName} {
					if n != "" {
						c[n] = append(c[n], v.Value)
					}
				}
				if at.Name == "mail" || at.FriendlyName == "mail" {
					c["email"] = append(c["email"], v.Value)
				}
			}
		}
	}
	return s.mapping.Map("saml:"+a.Subject.NameID.Value, c)
}
