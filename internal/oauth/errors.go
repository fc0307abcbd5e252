package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Error is an OAuth error answer: Code and Description go on the wire,
// Status is Auth0's HTTP status for it, Err is the cause (logged, never sent).
type Error struct {
	Code        string
	Description string
	Status      int
	Err         error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.Err)
	}
	return e.Code + ": " + e.Description
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// NewError builds an Error.
func NewError(status int, code, description string) *Error {
	return &Error{Code: code, Description: description, Status: status}
}

// Errorf builds an Error with a formatted description.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

// StrictStatus is the RFC 6749 §5.2 status for the error code: 401 for
// invalid_client, 400 for the rest of the token endpoint's errors (Auth0's
// "unauthorized" for a blocked user counts as a refused grant). Errors
// that are not §5.2's (rate limits, server errors) keep their status.
func (e *Error) StrictStatus() int {
	switch e.Code {
	case "invalid_client":
		return http.StatusUnauthorized
	case "invalid_request", "invalid_grant", "unauthorized_client",
		"unsupported_grant_type", "invalid_scope", "access_denied", "unauthorized":
		return http.StatusBadRequest
	}
	return e.Status
}

// AsError turns any error into an *Error: an *Error in the chain is used as
// is; anything else becomes a 500 server_error whose cause is logged only.
func AsError(err error) *Error {
	var oe *Error
	if errors.As(err, &oe) {
		return oe
	}
	return &Error{Code: "server_error", Description: "Internal error", Status: http.StatusInternalServerError, Err: err}
}

// WriteError sends err as the JSON body {"error","error_description"} with
// Cache-Control: no-store. With strict, statuses follow RFC 6749 §5.2.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, strict bool) {
	oe := AsError(err)
	status := oe.Status
	if strict {
		status = oe.StrictStatus()
	}
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "error", oe.Error())
	} else if oe.Err != nil {
		log.DebugContext(r.Context(), "request refused", "path", r.URL.Path, "error", oe.Error())
	}
	WriteJSON(w, status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{oe.Code, oe.Description})
}

// WriteJSON sends v as JSON with the headers every OAuth answer carries
// (RFC 6749 §5.1: Cache-Control: no-store, Pragma: no-cache).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = hvJSON
	h["Cache-Control"] = hvNoStore
	h["Pragma"] = hvNoCache
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
