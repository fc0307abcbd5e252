package tokens_test

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/tokens"
)

// fuzzIssuer is an Issuer over a real SQLite file with one user, for fuzz
// targets (which have a testing.F, not a *testing.T). It returns tokens the
// issuer minted, as seeds.
func fuzzIssuer(f *testing.F) (*tokens.Issuer, *config.Config, []string) {
	f.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "latch.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	cfg := &config.Config{
		Issuer: issuer,
		APIs:   []config.API{{Identifier: api, Scopes: []string{"read:items"}}},
		Clients: []config.Client{
			{ClientID: "spa", Type: config.TypeSPA, Callbacks: []string{"https://app.test/cb"}},
		},
	}
	if err := cfg.Finalize(); err != nil {
		f.Fatal(err)
	}
	km := keys.NewManager(st, []byte("0123456789abcdef0123456789abcdef"), keys.Options{Now: clock})
	if err := km.Init(ctx); err != nil {
		f.Fatal(err)
	}
	u := &store.User{ID: "auth0|0123456789abcdef01234567", Connection: config.DefaultConnection,
		Email: "ann@example.com", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(ctx, u); err != nil {
		f.Fatal(err)
	}
	iss := tokens.NewIssuer(func() *config.Config { return cfg }, km, st, clock)
	var seeds []string
	id, err := iss.IDToken(ctx, tokens.IDTokenRequest{User: u, ClientID: "spa", Scope: "openid profile email", Nonce: "n", SessionID: "s", AuthTime: now})
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, id)
	for _, req := range []tokens.AccessTokenRequest{
		{UserID: u.ID, ClientID: "spa", Audience: api, Scope: "openid read:items", GrantType: tokens.GrantAuthorizationCode},
		{UserID: u.ID, ClientID: "spa", Scope: "openid profile", GrantType: tokens.GrantAuthorizationCode, GrantID: "g"},
		{ClientID: "spa", Audience: api, Scope: "read:items", GrantType: tokens.GrantClientCredentials},
	} {
		at, err := iss.AccessToken(ctx, req)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, at.Value)
	}
	return iss, cfg, seeds
}

// forgeries are hand-made JWTs every check must refuse: alg none, HS256,
// an unknown kid, broken segments.
func forgeries(valid string) []string {
	b64 := base64.RawURLEncoding.EncodeToString
	payload := b64([]byte(`{"iss":"` + issuer + `","sub":"auth0|x","aud":["` + api + `","` + issuer + `userinfo"],"exp":99999999999}`))
	parts := strings.Split(valid, ".")
	return []string{
		b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + ".",
		b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + payload + "." + b64([]byte("sig")),
		b64([]byte(`{"alg":"RS256","kid":"nope"}`)) + "." + payload + "." + parts[2],
		parts[0] + "." + payload + "." + parts[2], // payload swapped under a real signature
		parts[0] + "." + parts[1] + ".",
		"..", "a.b.c", strings.Repeat("a.", 2) + strings.Repeat("A", 9000),
		"", "opaque-but-unknown", "\x00.\xff.\n",
		// Sealed-token shapes: five parts, dir without a key, alg none.
		"a.b.c.d.e", "....", b64([]byte(`{"alg":"dir","enc":"A256GCM"}`)) + "....",
		b64([]byte(`{"alg":"none","enc":"A256GCM"}`)) + ".." + b64([]byte("123456789012")) + "." + payload + "." + b64([]byte("0123456789abcdef")),
		b64([]byte(`{"alg":"dir","enc":"A128GCM","kid":"at-x"}`)) + ".." + b64([]byte("123456789012")) + "." + payload + "." + b64([]byte("0123456789abcdef")),
	}
}

// FuzzCheckAccessToken: whatever arrives as a bearer token, CheckAccessToken
// never panics and fails only with ErrInvalidToken or ErrExpiredToken (so
// /userinfo answers 401, never 500); what it accepts is this issuer's, for
// a user, and meant for /userinfo.
func FuzzCheckAccessToken(f *testing.F) {
	iss, cfg, seeds := fuzzIssuer(f)
	for _, s := range append(seeds, forgeries(seeds[1])...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		info, err := iss.CheckAccessToken(context.Background(), token)
		if err != nil {
			if !errors.Is(err, tokens.ErrInvalidToken) && !errors.Is(err, tokens.ErrExpiredToken) {
				t.Fatalf("CheckAccessToken(%q): unexpected error %v", token, err)
			}
			return
		}
		if info.UserID == "" {
			t.Fatalf("CheckAccessToken(%q) accepted a token without a user", token)
		}
		if !slices.Contains(seeds, token) {
			// A token (JWT or sealed) other than the ones minted may only
			// differ in encoding, never in what it says.
			if info.UserID != "auth0|0123456789abcdef01234567" || cfg.Issuer != issuer {
				t.Fatalf("CheckAccessToken(%q) accepted a forged JWT: %+v", token, info)
			}
		}
	})
}

// FuzzCheckIDTokenHint: the id_token_hint of /oidc/logout never panics the
// parser, fails only with ErrInvalidToken, and what it accepts is an ID
// token of this issuer for one of its clients — never an access token,
// though those are signed by the same keys (a seed).
func FuzzCheckIDTokenHint(f *testing.F) {
	iss, cfg, seeds := fuzzIssuer(f)
	for _, s := range append(seeds, forgeries(seeds[0])...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := iss.CheckIDTokenHint(token)
		if err != nil {
			if !errors.Is(err, tokens.ErrInvalidToken) {
				t.Fatalf("CheckIDTokenHint(%q): unexpected error %v", token, err)
			}
			return
		}
		if c.Issuer != cfg.Issuer || c.Subject != "auth0|0123456789abcdef01234567" ||
			len(c.Audience) != 1 || cfg.Client(c.Audience[0]) == nil {
			t.Fatalf("CheckIDTokenHint(%q) accepted %+v", token, c)
		}
	})
}

// FuzzScope: the scope helpers agree with each other on any input:
// NormalizeScope is idempotent and drops only duplicates and white space,
// every scope is a subset of itself, and HasScope finds exactly the values.
func FuzzScope(f *testing.F) {
	for _, s := range [][2]string{
		{"openid profile email offline_access", "openid"},
		{"  openid\topenid\nprofile ", "profile"},
		{"read:items write:items", "read:items write:items admin"},
		{"", ""},
		{"a\u00a0b \u2028c", "a"},
		{"openid\x00 x", "x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, scope, other string) {
		norm := tokens.NormalizeScope(scope)
		if again := tokens.NormalizeScope(norm); again != norm {
			t.Fatalf("NormalizeScope not idempotent: %q -> %q -> %q", scope, norm, again)
		}
		values := strings.Fields(norm)
		seen := map[string]bool{}
		for _, v := range values {
			if seen[v] {
				t.Fatalf("NormalizeScope(%q) = %q repeats %q", scope, norm, v)
			}
			seen[v] = true
			if !tokens.HasScope(scope, v) {
				t.Fatalf("HasScope(%q, %q) = false for one of its values", scope, v)
			}
		}
		for _, v := range strings.Fields(scope) {
			if !seen[v] {
				t.Fatalf("NormalizeScope(%q) = %q lost %q", scope, norm, v)
			}
		}
		if got, ok := tokens.SubsetScope(scope, scope); !ok || got != norm {
			t.Fatalf("SubsetScope(%q, itself) = %q, %v", scope, got, ok)
		}
		if got, ok := tokens.SubsetScope(other, scope); ok {
			for _, v := range strings.Fields(got) {
				if !seen[v] {
					t.Fatalf("SubsetScope(%q, %q) = %q widens with %q", other, scope, got, v)
				}
			}
		}
	})
}
