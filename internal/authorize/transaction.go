package authorize

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
)

// Transaction errors. Expired and done transactions come back with the
// Transaction so the page can link back to the application.
var (
	ErrTransactionUnknown = errors.New("authorize: unknown login transaction")
	ErrTransactionExpired = errors.New("authorize: login transaction expired")
	ErrTransactionDone    = errors.New("authorize: login transaction already completed")
)

// maxHandleLen bounds the opaque transaction handle a browser sends back;
// session.NewToken makes 43-character ones.
const maxHandleLen = 128

// Transaction is a stored /authorize request waiting for the user.
type Transaction struct {
	ID        string // the hash the store keys it by
	Handle    string // the opaque value the browser carries (?state=)
	Request   *Request
	CreatedAt time.Time
	ExpiresAt time.Time
}

// startTransaction stores req as a login transaction and sends the browser
// to the hosted page next with the transaction's opaque handle. Only the
// handle's hash is stored, like every other bearer secret.
func (h *Handler) startTransaction(w http.ResponseWriter, r *http.Request, cfg *config.Config, req *Request, next string) {
	handle := session.NewToken()
	req.CSRF = session.NewToken()
	params, err := json.Marshal(req)
	if err != nil {
		h.serverError(w, r, req, fmt.Errorf("authorize: encode transaction: %w", err))
		return
	}
	now := h.d.Now()
	tx := &store.LoginTransaction{
		ID: store.HashToken(handle), ClientID: req.ClientID, Params: params,
		CreatedAt: now, ExpiresAt: now.Add(cfg.Lifetimes.Transaction.D()),
	}
	if err := h.d.Store.CreateTransaction(r.Context(), tx); err != nil {
		h.serverError(w, r, req, fmt.Errorf("authorize: create transaction: %w", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", next+"?state="+url.QueryEscape(handle))
	w.WriteHeader(http.StatusFound)
}

// Transaction loads the transaction a hosted page's ?state= names. It
// returns ErrTransactionUnknown for a handle that names nothing (or a
// record that cannot be read), and the transaction together with
// ErrTransactionExpired or ErrTransactionDone when it can no longer be used.
func (h *Handler) Transaction(ctx context.Context, handle string) (*Transaction, error) {
	if handle == "" || len(handle) > maxHandleLen {
		return nil, ErrTransactionUnknown
	}
	lt, err := h.d.Store.GetTransaction(ctx, store.HashToken(handle))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrTransactionUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("authorize: get transaction: %w", err)
	}
	var req Request
	if err := json.Unmarshal(lt.Params, &req); err != nil || req.ClientID == "" {
		return nil, ErrTransactionUnknown
	}
	tx := &Transaction{ID: lt.ID, Handle: handle, Request: &req, CreatedAt: lt.CreatedAt, ExpiresAt: lt.ExpiresAt}
	switch {
	case !lt.CompletedAt.IsZero():
		return tx, ErrTransactionDone
	case !h.d.Now().Before(lt.ExpiresAt):
		return tx, ErrTransactionExpired
	}
	return tx, nil
}

// Complete marks the transaction completed; of concurrent callers only one
// succeeds (store.CompleteTransaction is one conditional update), the
// others get ErrTransactionDone (or ErrTransactionExpired).
func (h *Handler) Complete(ctx context.Context, tx *Transaction) error {
	err := h.d.Store.CompleteTransaction(ctx, tx.ID, h.d.Now())
	if errors.Is(err, store.ErrNotFound) {
		if !h.d.Now().Before(tx.ExpiresAt) {
			return ErrTransactionExpired
		}
		return ErrTransactionDone
	}
	if err != nil {
		return fmt.Errorf("authorize: complete transaction: %w", err)
	}
	return nil
}

// AppURL is where a "back to the application" link points for req: the
// origin of its callback, when that is a web URL (the app starts a fresh
// login from there).
func AppURL(req *Request) string {
	if req == nil {
		return ""
	}
	o, ok := OriginOf(req.Callback)
	if !ok || !(strings.HasPrefix(o, "http://") || strings.HasPrefix(o, "https://")) {
		return ""
	}
	return o + "/"
}
