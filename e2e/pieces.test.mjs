// End-to-end test of latch against the Pieces OS client SDK
// (@pieces.app/pieces-os-client, class Auth0Api): a real latch binary is
// started on 127.0.0.1 with an SQLite file in a temp directory (lib/latch.mjs;
// $LATCH_BIN, or built from ./cmd/latch when unset), and the SDK's Auth0
// methods are driven against it as SPEC.md §1 requires.
//
// Run: cd e2e && npm install && npm test   (needs Go and Node >= 20)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import pieces from '@pieces.app/pieces-os-client';
import { closeServer, listen, startLatch } from './lib/latch.mjs';

const { Auth0Api, Configuration, ResponseError } = pieces;

const clientId = 'pieces-spa';
const audience = 'https://api.pieces.test/';
const email = 'pieces@example.com';
const userPassword = 'correct horse battery staple';

let latch, base, app, appURL, redirectUri;

before(async () => {
  // A stand-in for the application: returnTo and the callback live here.
  app = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`app:${req.url}`);
  });
  appURL = await listen(app);
  redirectUri = `${appURL}/pkce/response/code`;

  const user = { email, password: userPassword, name: 'Pia Pieces', username: 'pia' };
  latch = await startLatch({
    users: [user],
    yaml: () => `allowed_logout_urls: [${appURL}/tenant]
apis:
  - { identifier: ${audience}, name: Pieces API, scopes: [read:assets], allow_offline_access: true }
clients:
  - client_id: ${clientId}
    name: Pieces
    type: spa
    callbacks: [${redirectUri}]
    allowed_logout_urls: [${appURL}/bye, ${appURL}/other]
    web_origins: [${appURL}]
`,
  });
  assert.match(user.id, /^auth0\|[0-9a-f]{24}$/);
  base = latch.base;
});

after(async () => {
  await latch?.stop();
  await closeServer(app);
});

function api(accessToken) {
  return new Auth0Api(new Configuration({
    basePath: base,
    apiKey: () => 'pieces-e2e', // sent as X-Application-ID, which latch ignores
    accessToken: accessToken && (() => accessToken),
  }));
}

// A minimal cookie jar for the hosted login pages.
class Jar {
  cookies = new Map();
  store(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1));
    }
  }
  header() {
    return [...this.cookies].filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const unescape = (s) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(+n))
  .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCharCode(parseInt(n, 16)))
  .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// login follows latch's redirects from a /authorize Location through the
// hosted login form to the application's callback and returns its query.
async function login(location, jar) {
  let url = new URL(location, base);
  for (let hop = 0; hop < 10; hop++) {
    if (url.origin !== base) return url.searchParams;
    let res = await fetch(url, { redirect: 'manual', headers: { Cookie: jar.header() } });
    jar.store(res);
    if (res.status === 200 && url.pathname.startsWith('/u/login')) {
      const page = await res.text();
      const form = new URLSearchParams();
      for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
        form.set(unescape(m[1]), unescape(m[2]));
      }
      form.set('username', email);
      form.set('password', userPassword);
      res = await fetch(url, {
        method: 'POST', redirect: 'manual', body: form,
        headers: { Cookie: jar.header(), 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      jar.store(res);
    }
    assert.ok([302, 303].includes(res.status), `expected a redirect from ${url.pathname}, got ${res.status}`);
    url = new URL(res.headers.get('location'), url);
  }
  throw new Error('too many redirects');
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

// authorize runs authorizeAuth0 (which can only be observed with
// redirect: 'manual', see AUTH0-BEHAVIOUR §6.5), then the hosted login.
async function authorize(jar) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('hex');
  let location;
  try {
    await api().authorizeAuth0({
      audience, scope: ['openid', 'email', 'profile', 'offline_access'], responseType: 'code', clientId,
      codeChallengeMethod: 'S256', codeChallenge: challenge, responseMode: 'query', state, redirectUri,
    }, { redirect: 'manual' });
    assert.fail('authorizeAuth0 did not redirect');
  } catch (err) {
    assert.ok(err instanceof ResponseError, String(err));
    assert.equal(err.response.status, 302);
    location = err.response.headers.get('location');
  }
  const result = await login(location, jar);
  assert.equal(result.get('error'), null, `authorize error: ${result.get('error_description')}`);
  assert.equal(result.get('state'), state);
  return { code: result.get('code'), verifier };
}

let session; // shared by the tests below, in order
const jar = new Jar();

test('exchangeForAuth0Token: authorization_code with audience', async () => {
  const { code, verifier } = await authorize(jar);
  assert.ok(code);
  const token = await api().exchangeForAuth0Token({
    grantType: 'authorization_code', clientId, code, redirectUri, codeVerifier: verifier, audience,
    schema: {}, // the SDK turns this into schema=[object Blob]
  });
  assert.equal(token.tokenType, 'Bearer');
  assert.equal(token.expiresIn, 86400);
  assert.equal(token.scope, 'openid email profile offline_access');
  assert.equal(token.accessToken.split('.').length, 3, 'a JWT access token for an API audience');
  assert.ok(token.idToken, 'an ID token with openid');
  assert.ok(token.refreshToken, 'a refresh token with offline_access and an API that allows it');
  const claims = JSON.parse(Buffer.from(token.accessToken.split('.')[1], 'base64url'));
  assert.deepEqual(claims.aud, [audience, `${base}/userinfo`]);
  assert.equal(claims.iss, `${base}/`);
  session = { token, code, verifier };
});

test('getAuth0UserInfo: every Auth0User field the scope allows', async () => {
  const user = await api(session.token.accessToken).getAuth0UserInfo();
  for (const k of ['name', 'nickname', 'picture', 'email', 'emailVerified', 'createdAt', 'updatedAt', 'identities',
    'username', 'userMetadata', 'userId', 'loginsCount', 'lastLogin', 'lastIp', 'blockedFor', 'guardianAuthenticators']) {
    assert.notEqual(user[k], undefined, `Auth0User.${k} missing`);
  }
  assert.equal(user.email, email);
  assert.equal(user.name, 'Pia Pieces');
  assert.equal(user.username, 'pia');
  assert.match(user.userId, /^auth0\|[0-9a-f]{24}$/);
  assert.equal(user.identities[0].connection, 'Username-Password-Authentication');
  assert.equal(user.identities[0].provider, 'auth0');
  assert.ok(user.loginsCount >= 1);
  // Dates arrive as RFC 3339 strings; a number would become a 1970 date.
  for (const k of ['createdAt', 'updatedAt', 'lastLogin']) {
    assert.ok(user[k] instanceof Date && user[k].getUTCFullYear() >= 2024, `${k} = ${user[k]}`);
  }
  assert.deepEqual(user.blockedFor, []);
  assert.deepEqual(user.guardianAuthenticators, []);
});

test('getAuth0UserInfo with a bad token is a 401', async () => {
  await assert.rejects(api('not-a-token').getAuth0UserInfo(), (err) => err instanceof ResponseError && err.response.status === 401);
});

test('refresh quirk: the SDK cannot send refresh_token and gets 400 invalid_request', async () => {
  try {
    await api().exchangeForAuth0Token({
      grantType: 'refresh_token', clientId, code: session.code, redirectUri, codeVerifier: session.verifier,
    });
    assert.fail('refresh without refresh_token succeeded');
  } catch (err) {
    assert.ok(err instanceof ResponseError, String(err));
    assert.equal(err.response.status, 400);
    assert.deepEqual(await err.response.json(), {
      error: 'invalid_request', error_description: 'Missing required parameter: refresh_token',
    });
  }
});

// silentAuth is /authorize with prompt=none and the browser's cookies; it
// returns the callback's query.
async function silentAuth() {
  const { challenge } = pkce();
  const q = new URLSearchParams({
    client_id: clientId, redirect_uri: redirectUri, response_type: 'code', response_mode: 'query', prompt: 'none',
    scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state: 's', audience,
  });
  const res = await fetch(`${base}/authorize?${q}`, { redirect: 'manual', headers: { Cookie: jar.header() } });
  assert.equal(res.status, 302);
  return new URL(res.headers.get('location')).searchParams;
}

test('auth0Logout with returnTo follows the redirect and ends the SSO session', async () => {
  assert.ok((await silentAuth()).get('code'), 'the SSO session works before logout');
  const viaBrowser = async ({ init }) => ({ headers: { ...init.headers, Cookie: jar.header() } });
  const body = await api().auth0Logout({ clientId, returnTo: `${appURL}/bye?from=latch` }, viaBrowser);
  assert.equal(body, 'app:/bye?from=latch');
  // The session is gone: silent authentication now needs a login.
  assert.equal((await silentAuth()).get('error'), 'login_required');
});

test('auth0Logout without returnTo', async () => {
  assert.equal(await api().auth0Logout(), 'OK');
  // With a client_id, the first allowed logout URL is the default.
  assert.equal(await api().auth0Logout({ clientId }), 'app:/bye');
});

test('auth0Logout with a returnTo that is not allowed is a 400 page', async () => {
  await assert.rejects(api().auth0Logout({ clientId, returnTo: 'http://evil.test/' }),
    (err) => err instanceof ResponseError && err.response.status === 400);
});

test('refresh tokens survive logout and rotate', async () => {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: session.token.refreshToken }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.ok(body.refresh_token && body.refresh_token !== session.token.refreshToken);
  assert.ok(body.id_token);
});
