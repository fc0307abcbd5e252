package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
)

// StylesheetPath is where the hosted pages' stylesheet is served.
const StylesheetPath = "/u/assets/latch.css"

// defaultPrimary is used when the tenant's colour is not a #rgb or
// #rrggbb value (it is inserted into CSS, so nothing else is accepted).
const defaultPrimary = "#635bff"

var hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// Branding is the tenant's look on every hosted page.
type Branding struct {
	Name    string
	LogoURL string // absolute http(s) URL, or ""
	CSSURL  string // the stylesheet, versioned by the colour so a change shows at once
}

// BrandOf derives the branding from the tenant configuration (tenant.name,
// tenant.logo_url, tenant.primary_color).
func BrandOf(name, logoURL, primaryColor string) Branding {
	if name == "" {
		name = "latch"
	}
	logo := ""
	if _, ok := Source(logoURL); ok && isHTTPURL(logoURL) {
		logo = logoURL
	}
	sum := sha256.Sum256([]byte(primary(primaryColor)))
	return Branding{Name: name, LogoURL: logo, CSSURL: StylesheetPath + "?v=" + hex.EncodeToString(sum[:4])}
}

func primary(c string) string {
	if hexColor.MatchString(c) {
		return c
	}
	return defaultPrimary
}

// Stylesheet returns the pages' CSS with the tenant's primary colour and a
// text colour that stays readable on it (WCAG relative luminance).
func Stylesheet(primaryColor string) []byte {
	c := primary(primaryColor)
	css, _ := files.ReadFile("static/latch.css") // embedded: cannot fail
	on := "#ffffff"
	if luminance(c) > 0.45 {
		on = "#111111"
	}
	head := fmt.Sprintf(":root{--primary:%s;--on-primary:%s}\n", c, on)
	return append([]byte(head), css...)
}

// ServeStylesheet writes the stylesheet for the tenant's colour. The URL
// carries a version derived from the colour, so it may be cached.
func ServeStylesheet(w http.ResponseWriter, primaryColor string) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(Stylesheet(primaryColor))
}

// luminance is the WCAG 2 relative luminance of a #rgb/#rrggbb colour.
func luminance(c string) float64 {
	hexs := c[1:]
	if len(hexs) == 3 {
		hexs = string([]byte{hexs[0], hexs[0], hexs[1], hexs[1], hexs[2], hexs[2]})
	}
	v, _ := strconv.ParseUint(hexs, 16, 32)
	ch := func(x uint64) float64 {
		f := float64(x) / 255
		if f <= 0.03928 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(v>>16&0xff) + 0.7152*ch(v>>8&0xff) + 0.0722*ch(v&0xff)
}
