package oauth

import "net/http"

// HeaderValue returns v as a header value to assign, shared, to many
// responses (h[key] = value, with key in canonical form): Header.Set
// allocates a slice and canonicalises the key on every call, which shows
// on the cheapest endpoints. The slice's capacity is its length, so a
// later Header.Add copies it instead of writing into the shared array.
func HeaderValue(v string) []string { return []string{v}[:1:1] }

// Shared values of the headers most responses carry.
var (
	hvJSON       = HeaderValue("application/json; charset=utf-8")
	hvNoStore    = HeaderValue("no-store")
	hvNoCache    = HeaderValue("no-cache")
	hvPublic5Min = HeaderValue("public, max-age=300")
	hvVaryOrigin = HeaderValue("Origin")
)

// SetCacheableJSON marks a response as JSON that caches may keep five
// minutes (discovery, JWKS).
func SetCacheableJSON(h http.Header) {
	h["Content-Type"] = hvJSON
	h["Cache-Control"] = hvPublic5Min
}
