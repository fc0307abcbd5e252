package login

import (
	"net/http"

	"github.com/latch-auth/latch/internal/config"
)

// ClientIP is the address a request comes from, as login records and
// counts it: the peer, or, when the peer is in trusted_proxies, the
// right-most X-Forwarded-For entry that is not a trusted proxy; written
// canonically (IPv4-mapped addresses as IPv4).
func ClientIP(cfg *config.Config, r *http.Request) string {
	return canonicalIP(clientIP(cfg, r))
}
