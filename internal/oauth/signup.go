package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/users"
)

// SignupRequest is the JSON body of POST /dbconnections/signup (Auth0's
// Authentication API "Signup").
type SignupRequest struct {
	ClientID     string          `json:"client_id"`
	Email        string          `json:"email"`
	Password     string          `json:"password"`
	Connection   string          `json:"connection"`
	Username     string          `json:"username"`
	GivenName    string          `json:"given_name"`
	FamilyName   string          `json:"family_name"`
	Name         string          `json:"name"`
	Nickname     string          `json:"nickname"`
	Picture      string          `json:"picture"`
	UserMetadata json.RawMessage `json:"user_metadata"`
}

// SignupResponse is Auth0's answer to a signup: the id without its
// "auth0|" prefix.
type SignupResponse struct {
	ID            string `json:"_id"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Username      string `json:"username,omitempty"`
}

// SignupError is Auth0's error shape for /dbconnections/*.
type SignupError struct {
	Name        string `json:"name"`
	Code        string `json:"code"`
	Description string `json:"description"`
	StatusCode  int    `json:"statusCode"`
}

func signupErr(status int, name, code, desc string) *SignupError {
	return &SignupError{Name: name, Code: code, Description: desc, StatusCode: status}
}

func badSignup(code, desc string) *SignupError {
	return signupErr(http.StatusBadRequest, "BadRequestError", code, desc)
}

// Signup serves POST /dbconnections/signup: it creates a user in a database
// connection whose signup is on, for a client that may use it.
func (h *Handler) Signup(w http.ResponseWriter, r *http.Request) {
	resp, serr := h.signup(r)
	if serr != nil {
		if serr.StatusCode == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		WriteJSON(w, serr.StatusCode, serr)
		return
	}
	WriteJSON(w, http.StatusOK, resp)
}

func (h *Handler) signup(r *http.Request) (*SignupResponse, *SignupError) {
	req, serr := parseSignup(r)
	if serr != nil {
		return nil, serr
	}
	cfg := h.Config()
	client := cfg.Client(req.ClientID)
	if client == nil {
		return nil, badSignup("invalid_request", "Unknown client: "+req.ClientID)
	}
	conn := cfg.Connection(req.Connection)
	if conn == nil || conn.Disabled || !slices.Contains(client.Connections, conn.Name) {
		return nil, badSignup("invalid_connection", "The connection does not exist or is not enabled for this client")
	}
	if !conn.SignupEnabled() {
		return nil, signupErr(http.StatusForbidden, "ForbiddenError", "operation_not_supported", "Public signup is disabled")
	}
	u, err := users.Create(r.Context(), h.Store, h.Passwords, users.NewUser{
		Connection: conn.Name, Email: req.Email, Username: req.Username, Password: req.Password,
		Name: req.Name, Nickname: req.Nickname, Picture: req.Picture,
		GivenName: req.GivenName, FamilyName: req.FamilyName, UserMetadata: req.UserMetadata,
	}, conn.PasswordMinLength, h.now())
	var policy *users.PolicyError
	switch {
	case errors.Is(err, users.ErrInvalidEmail):
		return nil, badSignup("invalid_signup", "Invalid email address")
	case errors.Is(err, users.ErrUserExists):
		return nil, badSignup("user_exists", "The user already exists.")
	case errors.Is(err, users.ErrUsernameTaken):
		return nil, badSignup("username_exists", "The username provided is in use already.")
	case errors.As(err, &policy):
		return nil, signupErr(http.StatusBadRequest, "PasswordStrengthError", "invalid_password", policy.Error())
	case errors.Is(err, password.ErrBusy):
		// Every hashing slot stayed busy (a flood): ask the client to retry.
		return nil, signupErr(http.StatusServiceUnavailable, "ServiceUnavailableError", "temporarily_unavailable",
			"Too many sign-ups are in progress. Try again in a moment.")
	case err != nil:
		h.log().ErrorContext(r.Context(), "signup failed", "error", err)
		return nil, signupErr(http.StatusInternalServerError, "InternalServerError", "server_error", "Internal error")
	}
	id := strings.TrimPrefix(u.ID, "auth0|")
	return &SignupResponse{ID: id, Email: u.Email, EmailVerified: u.EmailVerified, Username: u.Username}, nil
}

// parseSignup decodes and checks the JSON body: strings where strings are
// expected, user_metadata an object, the required fields present.
func parseSignup(r *http.Request) (*SignupRequest, *SignupError) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, badSignup("invalid_request", "Content-Type must be application/json")
	}
	var req SignupRequest
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, signupErr(http.StatusRequestEntityTooLarge, "BadRequestError", "invalid_request", "Request body too large")
		}
		return nil, badSignup("invalid_request", "The request body must be a JSON object with string fields")
	}
	if dec.More() {
		return nil, badSignup("invalid_request", "The request body must be a single JSON object")
	}
	if m := bytes.TrimSpace(req.UserMetadata); len(m) > 0 && string(m) != "null" {
		var obj map[string]json.RawMessage
		if json.Unmarshal(m, &obj) != nil || obj == nil {
			return nil, badSignup("invalid_signup", "user_metadata must be an object")
		}
		req.UserMetadata = m
	} else {
		req.UserMetadata = nil
	}
	for _, f := range []struct{ name, v string }{
		{"client_id", req.ClientID}, {"email", req.Email}, {"password", req.Password}, {"connection", req.Connection},
	} {
		if f.v == "" {
			return nil, badSignup("invalid_request", "Missing required parameter: "+f.name)
		}
	}
	return &req, checkProfile(&req)
}

// checkProfile bounds the optional profile fields as Auth0 does (name and
// nickname 300 characters, given and family name 150, username 128) and
// accepts only an http(s) URL as picture, since pages and apps render it.
func checkProfile(req *SignupRequest) *SignupError {
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"name", req.Name, 300}, {"nickname", req.Nickname, 300}, {"given_name", req.GivenName, 150},
		{"family_name", req.FamilyName, 150}, {"username", req.Username, 128}, {"picture", req.Picture, 2048},
	} {
		if utf8.RuneCountInString(f.v) > f.max {
			return badSignup("invalid_signup", fmt.Sprintf("%s is too long (at most %d characters)", f.name, f.max))
		}
	}
	if req.Picture != "" {
		u, err := url.Parse(req.Picture)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return badSignup("invalid_signup", "picture must be an http or https URL")
		}
	}
	return nil
}
