package auth0api

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// minRefetch is how soon after a fetch an unknown kid may make the client
// fetch the key set again, so tokens with made-up kids cannot turn it into
// a request amplifier.
const minRefetch = 10 * time.Second

// jwksPath is where Auth0 and latch publish the signing keys.
const jwksPath = "/.well-known/jwks.json"

// signingKeys returns the RSA keys that may have signed a token with kid:
// the one with that kid, or every key when the token names none. An unknown
// kid triggers one fresh fetch (keys are rotated), at most every minRefetch.
func (c *Client) signingKeys(ctx context.Context, kid string) ([]*rsa.PublicKey, error) {
	j := &c.jwks
	j.mu.Lock()
	defer j.mu.Unlock()
	if keys := j.find(kid); len(keys) > 0 {
		return keys, nil
	}
	if !j.fetchedAt.IsZero() && now().Sub(j.fetchedAt) < minRefetch {
		return nil, fmt.Errorf("%w: no published key has kid %q", ErrInvalidIDToken, kid)
	}
	if err := c.fetchJWKS(ctx); err != nil {
		return nil, err
	}
	if keys := j.find(kid); len(keys) > 0 {
		return keys, nil
	}
	return nil, fmt.Errorf("%w: no published key has kid %q", ErrInvalidIDToken, kid)
}

// find looks kid up; the lock is held.
func (j *jwksCache) find(kid string) []*rsa.PublicKey {
	if kid != "" {
		if k, ok := j.keys[kid]; ok {
			return []*rsa.PublicKey{k}
		}
		return nil
	}
	all := append([]*rsa.PublicKey(nil), j.anon...)
	for _, k := range j.keys {
		all = append(all, k)
	}
	return all
}

// fetchJWKS reads the key set; the lock is held. Keys that are not RSA
// signing keys for RS256 are skipped.
func (c *Client) fetchJWKS(ctx context.Context) error {
	res, err := c.get(ctx, jwksPath, http.Header{"Accept": {"application/json"}}, "fetch JWKS")
	if err != nil {
		return err
	}
	if res.status != http.StatusOK {
		return fmt.Errorf("auth0api: fetch JWKS: %w", parseError(res.status, res.header, res.body))
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(res.body, &set); err != nil {
		return fmt.Errorf("auth0api: fetch JWKS: not a JWK set: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	var anon []*rsa.PublicKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || !k.Valid() || (k.Use != "" && k.Use != "sig") ||
			(k.Algorithm != "" && k.Algorithm != string(jose.RS256)) {
			continue
		}
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok {
			continue
		}
		if k.KeyID == "" {
			anon = append(anon, pub)
		} else {
			keys[k.KeyID] = pub
		}
	}
	j := &c.jwks
	j.keys, j.anon, j.fetchedAt = keys, anon, now()
	return nil
}
