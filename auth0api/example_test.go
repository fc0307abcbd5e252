package auth0api_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/latch-auth/latch/auth0api"
)

// A command-line login: the system browser, a loopback redirect URI on a
// free port, the code exchange, the ID token check and the profile. It
// needs a server and a person at a browser, so it has no output to check.
func ExampleClient_Authorize() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	c := &auth0api.Client{Domain: "http://localhost:1000", ClientID: "my-cli"}
	nonce := auth0api.NewNonce()
	res, err := c.Authorize(ctx, auth0api.AuthorizeRequest{
		Audience: "https://api.example.com/",
		Scope:    []string{"openid", "profile", "email", "offline_access"},
		Nonce:    nonce,
	}, auth0api.AuthorizeOptions{
		OpenBrowser: func(url string) error {
			fmt.Println("Opening", url)
			return auth0api.OpenSystemBrowser(url)
		},
	})
	var e *auth0api.Error
	switch {
	case errors.As(err, &e) && e.Code == "access_denied":
		log.Fatal("login refused: ", e.Description)
	case errors.Is(err, context.DeadlineExceeded):
		log.Fatal("nobody logged in within 5 minutes")
	case err != nil:
		log.Fatal(err)
	}
	tok, err := c.ExchangeForToken(ctx, auth0api.ExchangeRequest{
		Code: res.Code, RedirectURI: res.RedirectURI, CodeVerifier: res.CodeVerifier,
	})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := c.VerifyIDToken(ctx, tok.IDToken, nonce)
	if err != nil {
		log.Fatal(err)
	}
	user, err := c.UserInfo(ctx, tok.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, user.Email, user.LastLogin.Format(time.RFC3339))
}

// Rotating a refresh token: the answer holds a new refresh token, and the
// old one must not be used again.
func ExampleClient_ExchangeForToken_refresh() {
	c := &auth0api.Client{Domain: "http://localhost:1000", ClientID: "my-cli"}
	tok, err := c.ExchangeForToken(context.Background(), auth0api.ExchangeRequest{
		GrantType:    auth0api.GrantRefreshToken,
		RefreshToken: "the refresh token from the last answer",
	})
	if errors.Is(err, &auth0api.Error{Code: "invalid_grant"}) {
		log.Fatal("the refresh token was revoked or has expired: log in again")
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("expires in", tok.ExpiresIn, "seconds")
}

// Building the /authorize URL for a browser the program does not control,
// with a PKCE pair (RFC 7636 appendix B's verifier, for a stable output).
func ExampleClient_AuthorizeURL() {
	c := &auth0api.Client{Domain: "https://tenant.auth0.com", ClientID: "9sW4Pa1LEjX67l6VO14u0207NLYeXnu1"}
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // auth0api.NewVerifier() in real use
	u, err := c.AuthorizeURL(auth0api.AuthorizeRequest{
		Scope:         []string{"openid", "email"},
		CodeChallenge: auth0api.ChallengeS256(verifier),
		RedirectURI:   "http://localhost:3000/pkce/response/code",
		ResponseMode:  "form_post",
		State:         "xyz",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)
	// Output:
	// https://tenant.auth0.com/authorize?client_id=9sW4Pa1LEjX67l6VO14u0207NLYeXnu1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fpkce%2Fresponse%2Fcode&response_mode=form_post&response_type=code&scope=openid+email&state=xyz
}

func ExampleChallengeS256() {
	fmt.Println(auth0api.ChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
	fmt.Println(len(auth0api.NewVerifier()), len(auth0api.NewState()), len(auth0api.NewNonce()))
	// Output:
	// E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
	// 43 43 43
}

func ExampleClient_LogoutURL() {
	c := &auth0api.Client{Domain: "http://localhost:1000", ClientID: "my-cli"}
	fmt.Println(c.LogoutURL("http://localhost:3000/"))
	// Output:
	// http://localhost:1000/v2/logout?client_id=my-cli&returnTo=http%3A%2F%2Flocalhost%3A3000%2F
}

// Telling the server's refusals apart from other failures.
func ExampleError() {
	var err error = &auth0api.Error{StatusCode: 403, Code: "invalid_grant", Description: "Failed to verify code verifier"}
	var e *auth0api.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Code)
	}
	fmt.Println(err)
	// Output:
	// 403 invalid_grant
	// auth0api: invalid_grant: Failed to verify code verifier (HTTP 403)
}
