package flowtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latch-auth/latch/internal/authorize/authorizetest"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/tokens"
)

// Per-API access-token algorithms, end to end: a real latch (server.New,
// SQLite, 127.0.0.1) whose tenant has an ES256 and an EdDSA API; tokens are
// checked the way a resource server would, with go-jose and the JWKS
// fetched over HTTP.

const (
	es256API     = "https://es256.api.test/"
	eddsaAPI     = "https://eddsa.api.test/"
	edWorker     = "ed-worker"
	edWorkerPass = "ed-worker-secret"
	// tenantSecret is authorizetest's master secret: the test opens the
	// same keys to forge a hint signed by latch's own ES256 key.
	tenantSecret = "0123456789abcdef0123456789abcdef"
)

func algTenant(c *config.Config) {
	c.APIs = append(c.APIs,
		config.API{Identifier: es256API, Scopes: []string{"read:items"}, SigningAlg: "ES256"},
		config.API{Identifier: eddsaAPI, Scopes: []string{"read:items"}, SigningAlg: "EdDSA"})
	c.Clients = append(c.Clients, config.Client{ClientID: edWorker, Type: config.TypeM2M,
		ClientSecret: edWorkerPass, APIs: []string{eddsaAPI}})
}

// fetchJWKS gets the key set the way a resource server does.
func fetchJWKS(t *testing.T, base string) jose.JSONWebKeySet {
	t.Helper()
	res, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var set jose.JSONWebKeySet
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &set) != nil {
		t.Fatalf("JWKS: %d %s", res.StatusCode, body)
	}
	return set
}

// verifyWithJWKS checks tok's signature with the JWKS key its kid names,
// accepting only alg, and returns its claims.
func verifyWithJWKS(t *testing.T, set jose.JSONWebKeySet, tok string, alg jose.SignatureAlgorithm) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("parse as %s: %v", alg, err)
	}
	kid := jws.Signatures[0].Header.KeyID
	found := set.Key(kid)
	if len(found) != 1 || found[0].Algorithm != string(alg) || found[0].Use != "sig" {
		t.Fatalf("JWKS entry for kid %q: %+v", kid, found)
	}
	payload, err := jws.Verify(found[0].Key)
	if err != nil {
		t.Fatalf("signature does not verify with the JWKS key: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestAccessTokenAlgorithmsEndToEnd(t *testing.T) {
	e := authorizetest.New(t, algTenant)
	b := e.Browser()
	base := e.Server.URL

	// Code flow with the ES256 API as audience.
	r := b.Login(authorizetest.AuthorizeURL(func(v url.Values) { v.Set("audience", es256API) }), authorizetest.Email, authorizetest.Password)
	code := authorizetest.Result(t, r, false).Get("code")
	r = b.Post("/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {code},
		"redirect_uri": {authorizetest.Callback}, "code_verifier": {authorizetest.Verifier},
	})
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := json.Unmarshal([]byte(r.Body), &tok); err != nil || r.Status != http.StatusOK {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}

	// The test tenant's keys were made without Ensure, so the ES256 key
	// came with the first ES256 token; RS256 keys stay first in the set.
	set := fetchJWKS(t, base)
	if len(set.Keys) != 2 || set.Keys[0].Algorithm != "RS256" || set.Keys[1].Algorithm != "ES256" {
		t.Fatalf("JWKS = %+v; want an RS256 then an ES256 key", set.Keys)
	}
	at := verifyWithJWKS(t, set, tok.AccessToken, jose.ES256)
	if aud, _ := at["aud"].([]any); len(aud) != 2 || aud[0] != es256API || at["sub"] != e.User.ID {
		t.Fatalf("ES256 access token claims %v", at)
	}
	if id := verifyWithJWKS(t, set, tok.IDToken, jose.RS256); id["aud"] != "spa" {
		t.Fatalf("ID token claims %v", id)
	}

	// /userinfo accepts the ES256 access token.
	req, _ := http.NewRequest(http.MethodGet, base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res := b.Do(req)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `"sub":"`+e.User.ID+`"`) {
		t.Fatalf("/userinfo with the ES256 token: %d %s", res.Status, res.Body)
	}

	// golang.org/x/oauth2's client-credentials flow against the EdDSA API.
	cc := clientcredentials.Config{ClientID: edWorker, ClientSecret: edWorkerPass, TokenURL: base + "/oauth/token",
		EndpointParams: url.Values{"audience": {eddsaAPI}}}
	ot, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(ot.AccessToken, ".")[0])
	if !strings.Contains(string(hdr), `"alg":"EdDSA"`) {
		t.Fatalf("client_credentials token header %s, want EdDSA", hdr)
	}
	set = fetchJWKS(t, base)
	cl := verifyWithJWKS(t, set, ot.AccessToken, jose.EdDSA)
	if cl["aud"] != eddsaAPI || cl["sub"] != edWorker+"@clients" || cl["gty"] != "client-credentials" {
		t.Fatalf("EdDSA client_credentials claims %v", cl)
	}
	serverKid := map[string]string{}
	for _, k := range set.Keys {
		serverKid[k.Algorithm] = k.KeyID
	}
	if len(serverKid) != 3 {
		t.Fatalf("JWKS after the EdDSA token: %+v", set.Keys)
	}

	// id_token_hint: ID-token claims under latch's RS256 key are accepted;
	// the same claims under its own ES256 or EdDSA key are not an ID token
	// of this server.
	// (The server made its ES256 and EdDSA keys above; this manager loads
	// them from the same store.)
	km := keys.NewManager(e.Store, []byte(tenantSecret), keys.Options{})
	if err := km.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	idClaims := tokens.IDClaims{Issuer: authorizetest.Issuer, Subject: e.User.ID, Audience: tokens.Audience{"spa"},
		IssuedAt: e.Clock.Now().Unix(), Expiry: e.Clock.Now().Unix() + 60}
	for _, tt := range []struct {
		alg    string
		status int
	}{{"RS256", http.StatusOK}, {"ES256", http.StatusBadRequest}, {"EdDSA", http.StatusBadRequest}} {
		t.Run("id_token_hint "+tt.alg, func(t *testing.T) {
			if km.CurrentKeyIDOf(tt.alg) != serverKid[tt.alg] {
				t.Fatalf("%s: test manager has kid %q, the server %q", tt.alg, km.CurrentKeyIDOf(tt.alg), serverKid[tt.alg])
			}
			hint, err := km.SignWithAlg(idClaims, "JWT", tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			res := e.Browser().Get("/oidc/logout?" + url.Values{"id_token_hint": {hint}}.Encode())
			if res.Status != tt.status {
				t.Fatalf("/oidc/logout with a %s hint: %d, want %d\n%s", tt.alg, res.Status, tt.status, res.Body)
			}
			if tt.status == http.StatusBadRequest && !strings.Contains(res.Body, "not a valid ID token") {
				t.Fatalf("refusal page does not say why:\n%s", res.Body)
			}
		})
	}
}
