package authorize

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/latch-auth/latch/internal/oauth"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/tokens"
	"github.com/latch-auth/latch/internal/web"
)

// maxDescription bounds error_description on the way to the application.
const maxDescription = 500

// Finish issues the authorization response for req to the user of sess:
// a code (stored hashed, bound to client, redirect URI, PKCE challenge,
// scope, audience, nonce, session and auth_time; single use, short-lived)
// or, for response_type=id_token, an ID token; then delivers it by the
// request's response mode.
func (h *Handler) Finish(w http.ResponseWriter, r *http.Request, req *Request, sess *store.Session) {
	if req.ResponseType == TypeIDToken {
		h.finishIDToken(w, r, req, sess)
		return
	}
	cfg := h.d.Config()
	now := h.d.Now()
	code := session.NewToken()
	ac := &store.AuthCode{
		Hash: store.HashToken(code), ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: req.CodeChallengeMethod,
		UserID: sess.UserID, SessionID: sess.ID, Scope: req.Scope, Audience: req.Audience,
		Nonce: req.Nonce, AuthTime: sess.AuthTime, CreatedAt: now, ExpiresAt: now.Add(cfg.Lifetimes.Code.D()),
	}
	if err := h.d.Store.CreateAuthCode(r.Context(), ac); err != nil {
		h.serverError(w, r, req, fmt.Errorf("authorize: create code: %w", err))
		return
	}
	h.deliver(w, r, req, []web.Param{{Name: "code", Value: code}, {Name: "state", Value: req.State}})
}

func (h *Handler) finishIDToken(w http.ResponseWriter, r *http.Request, req *Request, sess *store.Session) {
	if h.d.Tokens == nil {
		h.Fail(w, r, req, oauth.NewError(http.StatusBadRequest, "unsupported_response_type", "Unsupported response type: id_token"))
		return
	}
	u, err := h.d.Store.GetUser(r.Context(), sess.UserID)
	if err != nil {
		h.serverError(w, r, req, fmt.Errorf("authorize: id_token user: %w", err))
		return
	}
	tok, err := h.d.Tokens.IDToken(r.Context(), tokens.IDTokenRequest{
		User: u, ClientID: req.ClientID, Nonce: req.Nonce, SessionID: sess.ID,
		Scope: req.Scope, AuthTime: sess.AuthTime,
	})
	if err != nil {
		h.serverError(w, r, req, fmt.Errorf("authorize: mint id_token: %w", err))
		return
	}
	h.deliver(w, r, req, []web.Param{{Name: "id_token", Value: tok}, {Name: "state", Value: req.State}})
}

// Fail sends an OAuth error to the application by the request's response
// mode, with error, error_description and state (RFC 6749 §4.1.2.1). The
// description is reduced to the characters that section allows.
func (h *Handler) Fail(w http.ResponseWriter, r *http.Request, req *Request, oe *oauth.Error) {
	h.d.Logger.DebugContext(r.Context(), "authorize error", "client_id", req.ClientID, "error", oe.Code, "description", oe.Description)
	h.deliver(w, r, req, []web.Param{
		{Name: "error", Value: oe.Code},
		{Name: "error_description", Value: clipTo(sanitize(oe.Description), maxDescription)},
		{Name: "state", Value: req.State},
	})
}

// deliver writes params (empty values left out) to req's callback by its
// response mode.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, req *Request, params []web.Param) {
	ps := params[:0:0]
	for _, p := range params {
		if p.Value != "" {
			ps = append(ps, p)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	switch req.ResponseMode {
	case ModeFormPost:
		h.formPost(w, r, req, ps)
	case ModeWebMessage:
		h.webMessage(w, r, req, ps)
	case ModeFragment:
		h.redirect(w, req.Callback+"#"+encode(ps))
	default:
		sep := "?"
		if strings.Contains(req.Callback, "?") {
			sep = "&"
			if strings.HasSuffix(req.Callback, "?") || strings.HasSuffix(req.Callback, "&") {
				sep = ""
			}
		}
		h.redirect(w, req.Callback+sep+encode(ps))
	}
}

func (h *Handler) redirect(w http.ResponseWriter, loc string) {
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

// encode is application/x-www-form-urlencoded with spaces as %20, the way
// Auth0 writes its redirects (AUTH0-BEHAVIOUR §1.2).
func encode(ps []web.Param) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escape(p.Name))
		b.WriteByte('=')
		b.WriteString(escape(p.Value))
	}
	return b.String()
}

func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// formPost writes the OAuth 2.0 Form Post Response Mode page.
func (h *Handler) formPost(w http.ResponseWriter, r *http.Request, req *Request, ps []web.Param) {
	nonce := web.Nonce()
	web.SetCSP(w, web.FormPostCSP(nonce, req.Callback), false)
	// The callback was matched against the client's registered list, so it
	// is trusted as a URL (html/template would otherwise blank custom schemes).
	data := web.FormPostData{Action: template.URL(req.Callback), Params: ps, Nonce: nonce}
	if err := h.d.Pages.Render(w, http.StatusOK, web.PageFormPost, data); err != nil {
		h.d.Logger.ErrorContext(r.Context(), "render form_post", "error", err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
	}
}

// webMessage writes the web_message page (AUTH0-BEHAVIOUR §1.3): framable
// only by the client's web origins, posting to the callback's origin.
func (h *Handler) webMessage(w http.ResponseWriter, r *http.Request, req *Request, ps []web.Param) {
	var origins []string
	if c := h.d.Config().Client(req.ClientID); c != nil {
		origins = c.WebOrigins
	}
	target, _ := OriginOf(req.Callback)
	var resp web.WebMessageResponse
	for _, p := range ps {
		switch p.Name {
		case "code":
			resp.Code = p.Value
		case "id_token":
			resp.IDToken = p.Value
		case "error":
			resp.Error = p.Value
		case "error_description":
			resp.ErrorDescription = p.Value
		case "state":
			resp.State = p.Value
		}
	}
	nonce := web.Nonce()
	web.SetCSP(w, web.WebMessageCSP(nonce, origins), true)
	data := web.WebMessageData{TargetOrigin: target, Response: resp, Nonce: nonce}
	if err := h.d.Pages.Render(w, http.StatusOK, web.PageWebMessage, data); err != nil {
		h.d.Logger.ErrorContext(r.Context(), "render web_message", "error", err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
	}
}
