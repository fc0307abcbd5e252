package oauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// TokenRequest is a POST to /oauth/token or /oauth/revoke, parsed once from
// a form (RFC 6749 §4.1.3) or JSON body (Auth0 accepts both). Unknown
// parameters, such as the Pieces SDK's schema=[object Blob], are ignored.
type TokenRequest struct {
	GrantType     string
	ClientID      string
	ClientSecret  string
	Code          string
	RedirectURI   string
	CodeVerifier  string
	RefreshToken  string
	Scope         string
	Audience      string
	Token         string // /oauth/revoke (RFC 7009 §2.1)
	TokenTypeHint string // /oauth/revoke; advisory only

	// Basic holds the client_secret_basic credentials (RFC 6749 §2.3.1)
	// when the request carried an Authorization: Basic header.
	Basic *BasicCredentials
}

// BasicCredentials are the decoded user and password of a Basic
// Authorization header. Raw* keep the values before form-decoding, because
// some clients send them unencoded.
type BasicCredentials struct {
	ClientID, Secret       string
	RawClientID, RawSecret string
}

// tokenParams maps wire names to the fields they fill.
func (t *TokenRequest) fields() map[string]*string {
	return map[string]*string{
		"grant_type": &t.GrantType, "client_id": &t.ClientID, "client_secret": &t.ClientSecret,
		"code": &t.Code, "redirect_uri": &t.RedirectURI, "code_verifier": &t.CodeVerifier,
		"refresh_token": &t.RefreshToken, "scope": &t.Scope, "audience": &t.Audience,
		"token": &t.Token, "token_type_hint": &t.TokenTypeHint,
	}
}

// ParseTokenRequest reads r's body and Authorization header. Failures are
// *Error with invalid_request (413 for a body over the server's cap).
func ParseTokenRequest(r *http.Request) (*TokenRequest, error) {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, NewError(http.StatusRequestEntityTooLarge, "invalid_request", "Request body too large")
		}
		if err != nil {
			return nil, &Error{Code: "invalid_request", Description: "Could not read the request body", Status: http.StatusBadRequest, Err: err}
		}
	}
	req, err := parseTokenBody(r.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, _, _ := strings.Cut(h, " "); strings.EqualFold(scheme, "Basic") {
			creds, err := ParseBasicAuth(h)
			if err != nil {
				return nil, err
			}
			req.Basic = creds
		}
	}
	return req, nil
}

// parseTokenBody decodes a form or JSON body. An empty Content-Type is read
// as a form.
func parseTokenBody(contentType string, body []byte) (*TokenRequest, error) {
	mt := "application/x-www-form-urlencoded"
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, NewError(http.StatusBadRequest, "invalid_request", "Malformed Content-Type header")
		}
	}
	req := &TokenRequest{}
	fields := req.fields()
	switch mt {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, NewError(http.StatusBadRequest, "invalid_request", "Malformed form body")
		}
		for name, dst := range fields {
			v := vals[name]
			if len(v) > 1 { // RFC 6749 §3.2: parameters must not repeat
				return nil, Errorf(http.StatusBadRequest, "invalid_request", "Parameter %s is included more than once", name)
			}
			if len(v) == 1 {
				*dst = v[0]
			}
		}
	case "application/json":
		if err := decodeJSONObject(body, fields); err != nil {
			return nil, err
		}
	default:
		return nil, NewError(http.StatusBadRequest, "invalid_request",
			"Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	return req, nil
}

// decodeJSONObject fills fields from a JSON object whose known members are
// strings (or null); other members are ignored whatever their type.
func decodeJSONObject(body []byte, fields map[string]*string) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return NewError(http.StatusBadRequest, "invalid_request", "The request body must be a JSON object")
	}
	for name, dst := range fields {
		raw, ok := obj[name]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return Errorf(http.StatusBadRequest, "invalid_request", "Invalid parameter %s: expected a string", name)
		}
	}
	return nil
}

// ParseBasicAuth decodes "Basic base64(client_id:secret)". Both parts are
// form-decoded as RFC 6749 §2.3.1 requires; the raw parts are kept too.
func ParseBasicAuth(header string) (*BasicCredentials, error) {
	bad := NewError(http.StatusBadRequest, "invalid_request", "Malformed Basic authorization header")
	scheme, payload, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return nil, bad
	}
	payload = strings.TrimSpace(payload)
	dec, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		if dec, err = base64.RawStdEncoding.DecodeString(payload); err != nil {
			return nil, bad
		}
	}
	rawID, rawSecret, ok := strings.Cut(string(dec), ":")
	if !ok || rawID == "" {
		return nil, bad
	}
	c := &BasicCredentials{ClientID: rawID, Secret: rawSecret, RawClientID: rawID, RawSecret: rawSecret}
	if v, err := url.QueryUnescape(rawID); err == nil {
		c.ClientID = v
	}
	if v, err := url.QueryUnescape(rawSecret); err == nil {
		c.Secret = v
	}
	return c, nil
}
