package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// serveForWrk (--serve) starts latch with the benchmark tenant, prepares
// users, codes, refresh tokens and access tokens through latch's own
// endpoints, writes them beside the config, prints the wrk commands that
// reproduce the field comparison (wrk -t1 -c32 -d15s), and keeps latch
// running until interrupted.
func serveForWrk(ctx context.Context, srv *server, e *env, dir string, codes int) error {
	c, err := dial(srv.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	u := e.users[0]
	token := func(g grantSpec) (*tokenResponse, error) {
		code, err := silentCode(c, authorizePath(g, "none"), u.cookie)
		if err != nil {
			return nil, err
		}
		return exchange(c, code)
	}
	opaque, err := token(specOpenID)
	if err != nil {
		return err
	}
	jwt, err := token(specAPI)
	if err != nil {
		return err
	}
	var refresh []string
	for range 2 * e.conns {
		t, err := token(specRefresh)
		if err != nil {
			return err
		}
		refresh = append(refresh, t.RefreshToken)
	}
	logf("minting %d codes (openid + API audience) for the code-exchange script", codes)
	list, err := mintCodes(e, specAPI, codes)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, code := range list {
		fmt.Fprintf(&b, "%s %s %s\n", code, verifier, callbackURL)
	}
	codesFile, refreshFile := filepath.Join(dir, "codes.txt"), filepath.Join(dir, "refresh.txt")
	if err := os.WriteFile(codesFile, []byte(b.String()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(refreshFile, []byte(strings.Join(refresh, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	base := "http://" + srv.addr
	fmt.Printf(`latch is running at %s/ with the benchmark tenant (folder %s); Ctrl-C stops it.

wrk -t1 -c32 -d15s %s/.well-known/jwks.json
TOKEN=%s wrk -t1 -c32 -d15s -s bench/wrk/userinfo.lua %s/userinfo
TOKEN=%s wrk -t1 -c32 -d15s -s bench/wrk/userinfo.lua %s/userinfo
SECRET=%s AUDIENCE=%s wrk -t1 -c32 -d15s -s bench/wrk/client_credentials.lua %s/oauth/token
CODES=%s wrk -t1 -c32 -d15s -s bench/wrk/code.lua %s/oauth/token
REFRESH=%s wrk -t1 -c32 -d15s -s bench/wrk/refresh.lua %s/oauth/token

(the second /userinfo line uses a JWT access token; %d codes last %d s at 2,000 exchanges/s)
`, base, dir, base, opaque.AccessToken, base, jwt.AccessToken, base, srv.m2mSecret, benchAPI, base,
		codesFile, base, refreshFile, base, codes, codes/2000)
	<-ctx.Done()
	return nil
}
