package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/store"
)

// Grant types that issue access tokens, as AccessTokenRequest.GrantType.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantImplicit          = "implicit"
)

// gty is Auth0's "gty" claim for the grants that carry one (Auth0's
// access-token profile: client-credentials, password and refresh_token).
func gty(grant string) string {
	switch grant {
	case GrantClientCredentials:
		return "client-credentials"
	case GrantRefreshToken:
		return "refresh_token"
	}
	return ""
}

// Errors of access-token minting and checking.
var (
	// ErrUnknownAudience: the audience names no configured API.
	ErrUnknownAudience = errors.New("tokens: audience is not a configured API")
	// ErrInvalidToken: the token is malformed, unknown, revoked, signed by
	// a key latch does not publish, or not meant for /userinfo.
	ErrInvalidToken = errors.New("tokens: invalid access token")
	// ErrExpiredToken: a JWT access token past its exp.
	ErrExpiredToken = errors.New("tokens: access token expired")
)

// AccessTokenRequest is what an access token is made from.
type AccessTokenRequest struct {
	UserID    string // the subject; empty for client_credentials
	ClientID  string
	Audience  string // an API identifier gives a JWT; "" an opaque token
	Scope     string // granted scope, space separated
	GrantType string // the grant issuing it (GrantAuthorizationCode, ...)
	GrantID   string // opaque tokens: revoked with the grant
}

// AccessToken is a minted access token and its lifetime (expires_in).
type AccessToken struct {
	Value     string
	ExpiresIn time.Duration
}

// AccessToken mints an access token. With an audience it is a JWT signed
// with the API's signing_alg (RS256, ES256 or EdDSA; aud = [audience,
// issuer+"userinfo"] when openid is granted, else the audience alone;
// lifetime = the API's token_lifetime); without one it is opaque to its
// holder, good only at /userinfo, lasting lifetimes.access_token: its
// claims (opaqueClaims) sealed by keys.Manager.Seal, a compact JWE like
// Auth0's own opaque tokens. Nothing is stored: /userinfo opens it and
// checks its grant against the revoked grants (store.GetGrantUserState).
func (i *Issuer) AccessToken(ctx context.Context, req AccessTokenRequest) (AccessToken, error) {
	cfg := i.cfg()
	now := i.now()
	if req.Audience == "" {
		if req.UserID == "" {
			return AccessToken{}, errors.New("tokens: an opaque access token needs a user")
		}
		life := cfg.Lifetimes.AccessToken.D()
		payload, err := json.Marshal(opaqueClaims{
			Issuer: cfg.Issuer, Subject: req.UserID, AuthorizedParty: req.ClientID,
			Scope: req.Scope, IssuedAt: now.Unix(), Expiry: now.Add(life).Unix(), GrantID: req.GrantID,
		})
		if err != nil {
			return AccessToken{}, fmt.Errorf("tokens: opaque access token: %w", err)
		}
		value, err := i.keys.Seal(payload)
		if err != nil {
			return AccessToken{}, fmt.Errorf("tokens: seal access token: %w", err)
		}
		return AccessToken{Value: value, ExpiresIn: life}, nil
	}
	api := cfg.API(req.Audience)
	if api == nil {
		return AccessToken{}, ErrUnknownAudience
	}
	life := api.TokenLifetime.D()
	if life <= 0 {
		life = cfg.Lifetimes.AccessToken.D()
	}
	sub := req.UserID
	if req.GrantType == GrantClientCredentials {
		sub = req.ClientID + "@clients"
	}
	aud := Audience{req.Audience}
	if HasScope(req.Scope, ScopeOpenID) && req.GrantType != GrantClientCredentials {
		aud = append(aud, UserinfoURL(cfg.Issuer))
	}
	tok, err := i.signAccess(ctx, AccessClaims{
		Issuer: cfg.Issuer, Subject: sub, Audience: aud,
		IssuedAt: now.Unix(), Expiry: now.Add(life).Unix(),
		Scope: req.Scope, AuthorizedParty: req.ClientID, GrantType: gty(req.GrantType),
	}, api.SigningAlg)
	if err != nil {
		return AccessToken{}, fmt.Errorf("tokens: sign access token: %w", err)
	}
	return AccessToken{Value: tok, ExpiresIn: life}, nil
}

// signAccess signs access-token claims with alg. latch serve creates a
// key for every configured algorithm before a configuration naming it is
// used (keys.Manager.Ensure at start and on SIGHUP); should a key still be
// missing (an embedder that skipped Ensure), it is created here once
// rather than failing the request or signing with another algorithm than
// the resource server expects.
func (i *Issuer) signAccess(ctx context.Context, c AccessClaims, alg string) (string, error) {
	tok, err := i.keys.SignWithAlg(c, "JWT", alg)
	if errors.Is(err, keys.ErrNoSigningKey) && alg != "" && alg != keys.RS256 {
		if err = i.keys.Ensure(ctx, alg); err == nil {
			tok, err = i.keys.SignWithAlg(c, "JWT", alg)
		}
	}
	return tok, err
}

// UserinfoURL is the audience a JWT access token must carry to be accepted
// at /userinfo: the issuer followed by "userinfo", as Auth0 writes it.
func UserinfoURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/userinfo"
}

// opaqueClaims is the sealed content of an opaque access token. GrantID is
// the grant that issued it (the code's grant or the refresh-token family),
// revoked with it.
type opaqueClaims struct {
	Issuer          string `json:"iss"`
	Subject         string `json:"sub"`
	AuthorizedParty string `json:"azp"`
	Scope           string `json:"scope,omitempty"`
	IssuedAt        int64  `json:"iat"`
	Expiry          int64  `json:"exp"`
	GrantID         string `json:"gid,omitempty"`
}

// AccessInfo is what a valid access token presented at /userinfo says.
type AccessInfo struct {
	UserID   string
	ClientID string
	Scope    string
	Opaque   bool
	// User is, for an opaque token, its user as read in the same statement
	// as the token's grant (store.GetGrantUserState; for a stored token of
	// an earlier version, store.GetAccessTokenUser), Blocks counted against
	// rate_limits.brute_force_threshold; nil for a JWT.
	User *store.UserState
}

// maxTokenLen bounds what is parsed or hashed: latch's JWTs are well under
// this, and anything longer is not one of its tokens.
const maxTokenLen = 8 << 10

// CheckAccessToken validates a token presented at /userinfo: an opaque token
// (sealed, or stored by an earlier version) must be unrevoked and unexpired,
// and its user must exist; a JWT must be signed by a
// published key, issued by this issuer, unexpired, and have the userinfo URL
// among its audiences (client_credentials tokens never do). Failures wrap
// ErrInvalidToken or ErrExpiredToken.
func (i *Issuer) CheckAccessToken(ctx context.Context, token string) (*AccessInfo, error) {
	if token == "" || len(token) > maxTokenLen {
		return nil, ErrInvalidToken
	}
	now := i.now()
	switch strings.Count(token, ".") {
	case 2: // a JWT, below
	case 4:
		return i.checkSealed(ctx, token, now)
	default:
		// A stored opaque token of an earlier version: the token and its
		// user in one statement, as /userinfo needs both, and a token
		// whose user is gone is not valid either.
		at, us, err := i.st.GetAccessTokenUser(ctx, store.HashToken(token), now, i.cfg().RateLimits.BruteForceThreshold)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrInvalidToken
		}
		if err != nil {
			return nil, fmt.Errorf("tokens: look up access token: %w", err)
		}
		return &AccessInfo{UserID: at.UserID, ClientID: at.ClientID, Scope: at.Scope, Opaque: true, User: us}, nil
	}
	cfg := i.cfg()
	var c AccessClaims
	if err := i.keys.Verify(token, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	switch {
	case c.Issuer != cfg.Issuer:
		return nil, fmt.Errorf("%w: issuer %q", ErrInvalidToken, c.Issuer)
	case !c.Audience.Contains(UserinfoURL(cfg.Issuer)):
		return nil, fmt.Errorf("%w: not issued for /userinfo", ErrInvalidToken)
	case c.Subject == "" || c.GrantType == gty(GrantClientCredentials):
		return nil, fmt.Errorf("%w: no user subject", ErrInvalidToken)
	case c.Expiry <= now.Unix():
		return nil, ErrExpiredToken
	}
	return &AccessInfo{UserID: c.Subject, ClientID: c.AuthorizedParty, Scope: c.Scope}, nil
}

// checkSealed validates a sealed opaque access token: it must open under
// this tenant's secret, name this issuer, be unexpired, and its user must
// exist and its grant be unrevoked (one statement).
func (i *Issuer) checkSealed(ctx context.Context, token string, now time.Time) (*AccessInfo, error) {
	payload, err := i.keys.Open(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	var c opaqueClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: sealed claims: %w", ErrInvalidToken, err)
	}
	cfg := i.cfg()
	switch {
	case c.Issuer != cfg.Issuer:
		return nil, fmt.Errorf("%w: issuer %q", ErrInvalidToken, c.Issuer)
	case c.Subject == "":
		return nil, fmt.Errorf("%w: no user subject", ErrInvalidToken)
	case c.Expiry <= now.Unix():
		return nil, ErrExpiredToken
	}
	us, err := i.st.GetGrantUserState(ctx, c.GrantID, c.Subject, now, cfg.RateLimits.BruteForceThreshold)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: user gone or grant revoked", ErrInvalidToken)
	}
	if err != nil {
		return nil, fmt.Errorf("tokens: look up access token's user: %w", err)
	}
	return &AccessInfo{UserID: c.Subject, ClientID: c.AuthorizedParty, Scope: c.Scope, Opaque: true, User: us}, nil
}

// CheckIDTokenHint validates an id_token_hint (OIDC RP-Initiated Logout 1.0
// §2): signed RS256 (as every ID token latch issues) by a published key,
// issued by this issuer, for one of its clients. An expired hint
// is accepted, as the specification allows, because logout commonly happens
// after the ID token expired.
func (i *Issuer) CheckIDTokenHint(token string) (*IDClaims, error) {
	if token == "" || len(token) > maxTokenLen || strings.Count(token, ".") != 2 {
		return nil, ErrInvalidToken
	}
	var c IDClaims
	if err := i.keys.VerifyAlg(token, keys.RS256, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	// An ID token's audience is one client; a JWT access token's is an API
	// (and the userinfo URL), so this also refuses access tokens passed
	// off as hints.
	cfg := i.cfg()
	if c.Issuer != cfg.Issuer || c.Subject == "" || len(c.Audience) != 1 || cfg.Client(c.Audience[0]) == nil {
		return nil, fmt.Errorf("%w: not an ID token of this issuer", ErrInvalidToken)
	}
	return &c, nil
}
