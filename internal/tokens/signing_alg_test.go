package tokens_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/tokens"
)

// The per-API access-token algorithm; end-to-end over HTTP in
// internal/oauth/flowtest/signing_alg_test.go.

const (
	esAPI = "https://es.api.test/"
	edAPI = "https://ed.api.test/"
)

// withAlgAPIs is newEnv with an ES256 and an EdDSA API; ensured makes their
// keys as latch serve does (Init with the configured algorithms).
func withAlgAPIs(t *testing.T, ensured bool) *env {
	t.Helper()
	e := newEnv(t, false)
	cfg := *e.cfg
	cfg.APIs = append(append([]config.API(nil), e.cfg.APIs...),
		config.API{Identifier: esAPI, SigningAlg: "ES256"},
		config.API{Identifier: edAPI, SigningAlg: "EdDSA"})
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	e.cfg = &cfg
	e.iss = tokens.NewIssuer(func() *config.Config { return &cfg }, e.keys, e.st, e.clock.Now)
	if ensured {
		if err := e.keys.Init(context.Background(), cfg.AccessTokenAlgs()...); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]any{}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAccessTokenSigningAlg(t *testing.T) {
	tests := []struct {
		name     string
		audience string
		ensured  bool // false: the key is made on first use
		want     string
	}{
		{"default API", api, true, "RS256"},
		{"ES256 API", esAPI, true, "ES256"},
		{"EdDSA API", edAPI, true, "EdDSA"},
		{"ES256 API, key made on first use", esAPI, false, "ES256"},
		{"EdDSA API, key made on first use", edAPI, false, "EdDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := withAlgAPIs(t, tt.ensured)
			ctx := context.Background()
			at, err := e.iss.AccessToken(ctx, tokens.AccessTokenRequest{
				UserID: e.user.ID, ClientID: "spa", Audience: tt.audience,
				Scope: "openid profile", GrantType: tokens.GrantAuthorizationCode,
			})
			if err != nil {
				t.Fatal(err)
			}
			h := jwtHeader(t, at.Value)
			if h["alg"] != tt.want || h["kid"] != e.keys.CurrentKeyIDOf(tt.want) || h["typ"] != "JWT" {
				t.Fatalf("header = %v, want alg %s with its current kid", h, tt.want)
			}
			// /userinfo's check accepts every algorithm.
			info, err := e.iss.CheckAccessToken(ctx, at.Value)
			if err != nil || info.UserID != e.user.ID || info.Opaque {
				t.Fatalf("CheckAccessToken = %+v, %v", info, err)
			}
			// The ID token of the same grant stays RS256.
			id, err := e.iss.IDToken(ctx, tokens.IDTokenRequest{User: e.user, ClientID: "spa", Scope: "openid"})
			if err != nil || jwtHeader(t, id)["alg"] != "RS256" {
				t.Fatalf("ID token: %v, header %v", err, jwtHeader(t, id))
			}
		})
	}
}

// TestCheckIDTokenHintAlg: a hint is an ID token, and latch signs those
// RS256 only; the same claims under latch's own ES256 or EdDSA key are
// refused.
func TestCheckIDTokenHintAlg(t *testing.T) {
	e := withAlgAPIs(t, true)
	now := e.clock.Now().Unix()
	claims := tokens.IDClaims{Issuer: issuer, Subject: e.user.ID, Audience: tokens.Audience{"spa"}, IssuedAt: now, Expiry: now + 60}
	tests := []struct {
		alg  string
		want bool
	}{
		{"RS256", true},
		{"ES256", false},
		{"EdDSA", false},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			hint, err := e.keys.SignWithAlg(claims, "JWT", tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.iss.CheckIDTokenHint(hint)
			if tt.want {
				if err != nil || c.Subject != e.user.ID {
					t.Fatalf("CheckIDTokenHint = %+v, %v", c, err)
				}
				return
			}
			if !errors.Is(err, tokens.ErrInvalidToken) {
				t.Fatalf("CheckIDTokenHint(%s hint) = %+v, %v; want ErrInvalidToken", tt.alg, c, err)
			}
			// Still a valid signature: only the algorithm rule refuses it.
			if err := e.keys.Verify(hint, &map[string]any{}); err != nil {
				t.Fatalf("Verify(%s hint) = %v", tt.alg, err)
			}
		})
	}
}

// TestConfigAlgsAreKeyAlgs: config accepts exactly what keys can sign.
func TestConfigAlgsAreKeyAlgs(t *testing.T) {
	if got, want := config.SigningAlgs(), keys.Algorithms(); !reflect.DeepEqual(got, want) {
		t.Fatalf("config.SigningAlgs() = %v, keys.Algorithms() = %v", got, want)
	}
	if config.DefaultSigningAlg != keys.RS256 {
		t.Fatalf("config.DefaultSigningAlg = %s", config.DefaultSigningAlg)
	}
}
