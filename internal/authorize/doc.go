// Package authorize serves /authorize (RFC 6749 §4.1, OpenID Connect Core
// §3.1.2): it parses and validates the request in Auth0's order, matches the
// redirect URI, decides between an existing SSO session and the hosted login
// page, stores the request as a login transaction, issues authorization
// codes and delivers them, or errors, by the four response modes (query,
// fragment, form_post, web_message).
//
// Until client_id and redirect_uri are trusted, errors are an HTML page and
// never a redirect (RFC 6749 §4.1.2.1); afterwards every error goes back to
// the application with error, error_description and state.
package authorize
