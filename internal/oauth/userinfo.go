package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/tokens"
	"github.com/latch-auth/latch/internal/users"
)

// UserinfoResponse is the /userinfo answer: sub always, the Auth0User
// profile fields with the profile scope, email fields with the email scope
// (nil embedded parts are left out of the JSON).
type UserinfoResponse struct {
	Sub string `json:"sub"`
	*UserinfoProfile
	*UserinfoEmail
}

// UserinfoProfile holds the fields the profile scope releases, shaped as
// the Pieces SDK's Auth0User (dates as RFC 3339 strings; updated_at a
// number under oidc_strict).
type UserinfoProfile struct {
	Name                   string           `json:"name"`
	Nickname               string           `json:"nickname"`
	Picture                string           `json:"picture"`
	GivenName              string           `json:"given_name,omitempty"`
	FamilyName             string           `json:"family_name,omitempty"`
	Locale                 string           `json:"locale,omitempty"`
	UpdatedAt              any              `json:"updated_at"`
	Username               string           `json:"username,omitempty"`
	UserID                 string           `json:"user_id"`
	CreatedAt              string           `json:"created_at"`
	Identities             []users.Identity `json:"identities"`
	UserMetadata           json.RawMessage  `json:"user_metadata"`
	LoginsCount            int64            `json:"logins_count"`
	LastLogin              string           `json:"last_login,omitempty"`
	LastIP                 string           `json:"last_ip,omitempty"`
	BlockedFor             []any            `json:"blocked_for"`
	GuardianAuthenticators []any            `json:"guardian_authenticators"`
}

// UserinfoEmail holds the fields the email scope releases.
type UserinfoEmail struct {
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
}

// Userinfo serves GET and POST /userinfo (OIDC Core §5.3). The access token
// comes as "Authorization: Bearer <token>" or, as the Pieces SDK sends it,
// as the bare token.
func (h *Handler) Userinfo(w http.ResponseWriter, r *http.Request) {
	cfg := h.Config()
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		unauthorized(w, "invalid_token", "Missing or malformed access token")
		return
	}
	ctx := r.Context()
	info, err := h.Tokens.CheckAccessToken(ctx, token)
	switch {
	case errors.Is(err, tokens.ErrExpiredToken):
		unauthorized(w, "invalid_token", "The token has expired")
		return
	case errors.Is(err, tokens.ErrInvalidToken):
		unauthorized(w, "invalid_token", "Invalid access token")
		return
	case err != nil:
		h.fail(w, r, cfg, err)
		return
	}
	scope := scopesOf(info.Scope)
	if !scope.openid {
		// RFC 6750 §3.1: a valid token without the scope /userinfo needs.
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="openid"`)
		WriteJSON(w, http.StatusForbidden, errorBody{"insufficient_scope", "The access token was not granted the openid scope"})
		return
	}
	// An opaque token came with its user, read in the same statement; a
	// JWT names one, read now. Either way from the database on every
	// request, never from a cache: a deleted or blocked user is refused at
	// once on every instance.
	threshold := cfg.RateLimits.BruteForceThreshold
	us := info.User
	if us == nil {
		us, err = h.Store.GetUserState(ctx, info.UserID, h.Now(), threshold)
		if errors.Is(err, store.ErrNotFound) {
			unauthorized(w, "invalid_token", "The user of this token no longer exists")
			return
		}
		if err != nil {
			h.fail(w, r, cfg, err)
			return
		}
	}
	u := us.User
	if u.Blocked {
		unauthorized(w, "invalid_token", descUserBlocked)
		return
	}
	var blockedFor []any
	if scope.profile && us.Blocks {
		// Only when the user has a block: listing them is a second query.
		if blockedFor, err = users.BlockedFor(ctx, h.Store, u, threshold, h.Now()); err != nil {
			h.fail(w, r, cfg, err)
			return
		}
	}
	WriteJSON(w, http.StatusOK, userinfoOf(cfg, u, scope, blockedFor))
}

// userinfoScopes says which of the scopes /userinfo looks at a token has.
type userinfoScopes struct{ openid, profile, email bool }

// scopesOf reads a space-separated scope once, without allocating.
func scopesOf(scope string) userinfoScopes {
	var s userinfoScopes
	for v := range strings.FieldsSeq(scope) {
		switch v {
		case tokens.ScopeOpenID:
			s.openid = true
		case tokens.ScopeProfile:
			s.profile = true
		case tokens.ScopeEmail:
			s.email = true
		}
	}
	return s
}

// userinfoOf renders u for scope; blockedFor lists the user's brute-force
// blocks (users.BlockedFor).
func userinfoOf(cfg *config.Config, u *store.User, scope userinfoScopes, blockedFor []any) UserinfoResponse {
	resp := UserinfoResponse{Sub: u.ID}
	p := users.ProfileOf(u, blockedFor)
	if scope.profile {
		resp.UserinfoProfile = &UserinfoProfile{
			Name: p.Name, Nickname: p.Nickname, Picture: p.Picture,
			GivenName: p.GivenName, FamilyName: p.FamilyName, Locale: p.Locale,
			UpdatedAt: tokens.UpdatedAt(u.UpdatedAt, cfg.OIDCStrict),
			Username:  p.Username, UserID: p.UserID, CreatedAt: p.CreatedAt,
			Identities: p.Identities, UserMetadata: p.UserMetadata, LoginsCount: p.LoginsCount,
			LastLogin: p.LastLogin, LastIP: p.LastIP,
			BlockedFor: p.BlockedFor, GuardianAuthenticators: p.GuardianAuthenticators,
		}
	}
	if scope.email {
		resp.UserinfoEmail = &UserinfoEmail{Email: p.Email, EmailVerified: p.EmailVerified}
	}
	return resp
}

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// unauthorized answers 401 with the RFC 6750 §3 challenge.
func unauthorized(w http.ResponseWriter, code, desc string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+desc+`"`)
	WriteJSON(w, http.StatusUnauthorized, errorBody{code, desc})
}

// bearerToken extracts the token of "Bearer <token>" (RFC 6750 §2.1, scheme
// case-insensitive) or of a bare "<token>" without scheme, which the Pieces
// SDK sends. Any other scheme is refused.
func bearerToken(h string) (string, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", false
	}
	scheme, rest, found := strings.Cut(h, " ")
	if !found {
		return h, true
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	if rest == "" || strings.ContainsAny(rest, " \t") {
		return "", false
	}
	return rest, true
}
