package keys

import (
	"crypto/sha256"
	"sync"
)

// verifiedCap bounds the verified-token cache: about 200 bytes an entry
// (a digest, a kid and a small payload), so well under a megabyte.
const verifiedCap = 4096

// verifiedCache remembers the payloads of tokens whose signature Verify
// has checked, keyed by the SHA-256 of the whole token. A resource server
// or /userinfo sees the same access token again and again during its
// lifetime; checking an RS256 signature (the RSA public operation, parsing
// the JWS) was 40% of /userinfo's CPU for a JWT. A hit is only trusted
// while the token's key is still published, so a retired key's tokens stop
// verifying exactly as without the cache. Claims (exp, iss, aud) are the
// caller's to check on every use, as always.
type verifiedCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	kid     string
	alg     string // the header's alg, which Verify checked is the key's
	payload []byte
}

func (c *verifiedCache) get(sum [sha256.Size]byte) (verifiedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[sum]
	return v, ok
}

// put adds a verified token, evicting an arbitrary entry when full (map
// iteration order is random, which makes this random eviction).
func (c *verifiedCache) put(sum [sha256.Size]byte, v verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[sha256.Size]byte]verifiedToken)
	}
	if len(c.m) >= verifiedCap {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[sum] = v
}
