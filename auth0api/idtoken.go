package auth0api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Leeway is the clock skew VerifyIDToken tolerates on exp and iat, as
// Auth0's SDKs do (60 s).
const Leeway = 60 * time.Second

// maxIDToken bounds the token VerifyIDToken parses.
const maxIDToken = 64 << 10

// ErrInvalidIDToken wraps every reason VerifyIDToken refuses a token:
// malformed, not RS256, unknown key, bad signature, wrong iss, aud, azp or
// nonce, expired, or issued in the future.
var ErrInvalidIDToken = errors.New("auth0api: invalid ID token")

// now is the clock of ID token checks; tests move it.
var now = time.Now

// IDTokenClaims are the verified claims of an ID token (OIDC Core §2). The
// profile and email claims are there when their scope was granted; Claims
// holds every claim, custom (namespaced) ones included.
type IDTokenClaims struct {
	Issuer          string
	Subject         string
	Audience        []string
	AuthorizedParty string
	ExpiresAt       time.Time
	IssuedAt        time.Time
	AuthTime        time.Time // zero when absent
	Nonce           string
	SessionID       string

	Name          string
	Nickname      string
	Picture       string
	GivenName     string
	FamilyName    string
	Locale        string
	UpdatedAt     time.Time // from an RFC 3339 string or a number
	Email         string
	EmailVerified bool

	Claims map[string]any
}

// VerifyIDToken checks an ID token the way OIDC Core §3.1.3.7 and Auth0's
// SDKs do and returns its claims: the RS256 signature with a key of
// Domain/.well-known/jwks.json (fetched once and cached by kid, fetched
// again for an unknown kid), iss = Domain + "/", aud containing ClientID
// (and azp = ClientID when there are several audiences or an azp), sub
// present, exp and iat within Leeway, and nonce when one is given (pass ""
// for a token from a refresh, which carries none). Failures wrap
// ErrInvalidIDToken.
func (c *Client) VerifyIDToken(ctx context.Context, rawIDToken, nonce string) (*IDTokenClaims, error) {
	if err := c.check("verify ID token"); err != nil {
		return nil, err
	}
	if len(rawIDToken) > maxIDToken {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidIDToken, maxIDToken)
	}
	jws, err := jose.ParseSignedCompact(rawIDToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIDToken, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want one signature, got %d", ErrInvalidIDToken, len(jws.Signatures))
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, err := c.signingKeys(ctx, kid)
	if err != nil {
		return nil, err
	}
	var payload []byte
	for _, k := range keys {
		if payload, err = jws.Verify(k); err == nil {
			break
		}
	}
	if payload == nil {
		return nil, fmt.Errorf("%w: the signature does not verify with key %q", ErrInvalidIDToken, kid)
	}
	claims, err := parseIDClaims(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIDToken, err)
	}
	if err := c.checkIDClaims(claims, nonce, now()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIDToken, err)
	}
	return claims, nil
}

// checkIDClaims applies the claim rules of VerifyIDToken at time t.
func (c *Client) checkIDClaims(cl *IDTokenClaims, nonce string, t time.Time) error {
	switch {
	case cl.Issuer != c.Issuer():
		return fmt.Errorf("iss %q, want %q", cl.Issuer, c.Issuer())
	case cl.Subject == "":
		return errors.New("no sub")
	case !slices.Contains(cl.Audience, c.ClientID):
		return fmt.Errorf("aud %q does not contain the client_id %q", cl.Audience, c.ClientID)
	case len(cl.Audience) > 1 && cl.AuthorizedParty == "":
		return errors.New("several audiences but no azp")
	case cl.AuthorizedParty != "" && cl.AuthorizedParty != c.ClientID:
		return fmt.Errorf("azp %q is not the client_id %q", cl.AuthorizedParty, c.ClientID)
	case cl.ExpiresAt.IsZero():
		return errors.New("no exp")
	case !t.Before(cl.ExpiresAt.Add(Leeway)):
		return fmt.Errorf("expired at %s", cl.ExpiresAt.UTC().Format(time.RFC3339))
	case cl.IssuedAt.IsZero():
		return errors.New("no iat")
	case cl.IssuedAt.After(t.Add(Leeway)):
		return fmt.Errorf("issued in the future (%s)", cl.IssuedAt.UTC().Format(time.RFC3339))
	case nonce != "" && cl.Nonce != nonce:
		return errors.New("nonce does not match the request's")
	}
	return nil
}

// parseIDClaims decodes a JWT claims set.
func parseIDClaims(payload []byte) (*IDTokenClaims, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("claims are not a JSON object: %v", err)
	}
	cl := &IDTokenClaims{}
	if err := json.Unmarshal(payload, &cl.Claims); err != nil {
		return nil, err
	}
	strs := map[string]*string{
		"iss": &cl.Issuer, "sub": &cl.Subject, "azp": &cl.AuthorizedParty, "nonce": &cl.Nonce,
		"sid": &cl.SessionID, "name": &cl.Name, "nickname": &cl.Nickname, "picture": &cl.Picture,
		"given_name": &cl.GivenName, "family_name": &cl.FamilyName, "locale": &cl.Locale, "email": &cl.Email,
	}
	for name, dst := range strs {
		if v, ok := raw[name]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, fmt.Errorf("%s is not a string", name)
			}
		}
	}
	if v, ok := raw["email_verified"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &cl.EmailVerified); err != nil {
			return nil, errors.New("email_verified is not a boolean")
		}
	}
	aud, err := parseAudience(raw["aud"])
	if err != nil {
		return nil, err
	}
	cl.Audience = aud
	dates := map[string]*time.Time{"exp": &cl.ExpiresAt, "iat": &cl.IssuedAt, "auth_time": &cl.AuthTime}
	for name, dst := range dates {
		v := raw[name]
		if s := strings.TrimSpace(string(v)); s != "" && s[0] == '"' {
			return nil, fmt.Errorf("%s is not a number", name) // RFC 7519 §2 NumericDate
		}
		if *dst, err = parseDate(v); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if cl.UpdatedAt, err = parseDate(raw["updated_at"]); err != nil {
		return nil, fmt.Errorf("updated_at: %v", err)
	}
	return cl, nil
}

// parseAudience reads "aud": one string or an array of strings (RFC 7519
// §4.1.3).
func parseAudience(v json.RawMessage) ([]string, error) {
	s := strings.TrimSpace(string(v))
	if s == "" || s == "null" {
		return nil, errors.New("no aud")
	}
	if s[0] == '"' {
		var one string
		if err := json.Unmarshal(v, &one); err != nil {
			return nil, err
		}
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, errors.New("aud is neither a string nor an array of strings")
	}
	return list, nil
}
