// End-to-end test of the Pieces OS client SDK (@pieces.app/pieces-os-client,
// class Auth0Api) with the login done in a real browser: the seed's own
// example /authorize URL (scope "email profile offline_access openid",
// response_mode=form_post, an audience, S256) with only the host, the
// client id and the callback changed, opened in headless Chromium; the user
// types the password on latch's hosted page; latch form_posts code and
// state to the test app's /pkce/response/code (the seed's callback shape);
// then the SDK's exchangeForAuth0Token, getAuth0UserInfo and auth0Logout.
//
// Run one file: cd e2e && LATCH_BIN=$PWD/.bin/latch node --test pieces-browser.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import pieces from '@pieces.app/pieces-os-client';
import { startLatch } from './lib/latch.mjs';
import { startApp } from './lib/app.mjs';
import { browserSkip, launchBrowser, scenario } from './lib/browser.mjs';

const { Auth0Api, Configuration, ResponseError } = pieces;

// The example from the seed (the SDK's Auth0Api page), byte for byte except
// for a stray space the page has after the host.
const SEED_URL = 'https://auth.pieces.services/authorize?audience=https%3A%2F%2Fpieces.us.auth0.com%2Fapi%2Fv2%2F' +
  '&scope=email+profile+offline_access+openid&response_type=code&client_id=9sW4Pa1LEjX67l6VO14u0207NLYeXnu1' +
  '&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fpkce%2Fresponse%2Fcode&code_challenge_method=S256' +
  '&code_challenge=yxRssZxdfBpMigRmDxAety1QU72Bd5WnDUbtlsCZOnk&response_mode=form_post' +
  '&state=4bd0b9a389b4b229602346c33913b4c3c199628a90011ab3a901302ab62b3832';
const SEED = new URL(SEED_URL).searchParams;

const skip = browserSkip();
const clientId = 'pieces-desktop';
const audience = SEED.get('audience');
const user = { email: 'pia@example.com', password: 'correct horse battery staple', name: 'Pia Pieces', username: 'pia' };

let latch, app, browser, callback;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  app = await startApp({ clientId });
  callback = `${app.origin}/pkce/response/code`;
  latch = await startLatch({
    users: [user],
    yaml: () => `apis:
  - { identifier: ${audience}, name: Pieces API, allow_offline_access: true }
clients:
  - client_id: ${clientId}
    name: Pieces Desktop
    type: native
    callbacks: [${callback}]
    allowed_logout_urls: [${app.origin}/]
`,
  });
  app.domain = latch.base;
});

after(async () => {
  await browser?.close();
  await latch?.stop();
  await app?.close();
});

// replaceOnce swaps the one occurrence of from in s, and fails if there is none.
function replaceOnce(s, from, to) {
  assert.equal(s.split(from).length, 2, `seed URL contains ${from} once`);
  return s.replace(from, () => to);
}

// seedURL is the seed's URL pointed at this latch, this client and this
// callback; extra replaces further parameter values (name → value).
function seedURL(extra = {}) {
  let u = replaceOnce(SEED_URL, 'https://auth.pieces.services/', `${latch.base}/`);
  u = replaceOnce(u, `client_id=${SEED.get('client_id')}`, `client_id=${clientId}`);
  u = replaceOnce(u, `redirect_uri=${encodeURIComponent(SEED.get('redirect_uri'))}`, `redirect_uri=${encodeURIComponent(callback)}`);
  for (const [k, v] of Object.entries(extra)) u = replaceOnce(u, `${k}=${SEED.get(k)}`, `${k}=${encodeURIComponent(v)}`);
  return u;
}

function api(accessToken) {
  return new Auth0Api(new Configuration({
    basePath: latch.base,
    apiKey: () => 'pieces-e2e', // sent as X-Application-ID, which latch ignores
    accessToken: accessToken && (() => accessToken),
  }));
}

// authorizeInBrowser opens url in page, logs in on the hosted page when
// login is set, waits for latch's form_post to reach the app's callback,
// and returns what the app received.
async function authorizeInBrowser(page, url, login = false) {
  const posted = page.waitForResponse((r) => r.url() === callback && r.request().method() === 'POST');
  const before = app.received.length;
  await page.goto(url);
  if (login) {
    await page.waitForURL((u) => u.origin === latch.base && u.pathname === '/u/login');
    await page.getByLabel('Email address or username').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Continue' }).click();
  }
  assert.equal((await posted).status(), 200);
  assert.match(await page.textContent('#result'), /received the response/);
  assert.equal(app.received.length, before + 1, 'one form post per authorization');
  return app.received[before];
}

test('Pieces SDK: the seed /authorize URL in a browser, form_post, exchangeForAuth0Token, getAuth0UserInfo, auth0Logout', { skip }, scenario(() => browser, () => latch, async (context) => {
  const page = await context.newPage();

  // 1. The seed URL as it is (host, client id, callback changed) logs in
  //    and form_posts a code with the seed's state to the callback.
  const seeded = await authorizeInBrowser(page, seedURL(), true);
  assert.equal(seeded.error, null, `authorize error: ${seeded.body.get('error_description')}`);
  assert.equal(seeded.state, SEED.get('state'));
  assert.ok(seeded.code, 'a code');
  // The code is bound to the seed's code_challenge, whose verifier only
  // the seed's author knows: any other verifier is refused.
  try {
    await api().exchangeForAuth0Token({
      grantType: 'authorization_code', clientId, code: seeded.code, redirectUri: callback,
      codeVerifier: randomBytes(32).toString('base64url'), audience, schema: {},
    });
    assert.fail('a code was exchanged with the wrong verifier');
  } catch (err) {
    assert.ok(err instanceof ResponseError, String(err));
    assert.equal(err.response.status, 403);
    assert.deepEqual(await err.response.json(), { error: 'invalid_grant', error_description: 'Failed to verify code verifier' });
  }

  // 2. The same URL with our own PKCE pair and state: the SSO session
  //    answers without a login page, and the SDK exchanges the code.
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(32).toString('hex');
  const posted = await authorizeInBrowser(page, seedURL({ code_challenge: challenge, state }));
  assert.equal(posted.state, state);

  const token = await api().exchangeForAuth0Token({
    grantType: 'authorization_code', clientId, code: posted.code, redirectUri: callback,
    codeVerifier: verifier, audience, schema: {}, // the SDK sends schema=[object Blob]
  });
  assert.equal(token.tokenType, 'Bearer');
  assert.deepEqual(token.scope.split(' ').sort(), ['email', 'offline_access', 'openid', 'profile']);
  assert.ok(token.idToken, 'an ID token (openid)');
  assert.ok(token.refreshToken, 'a refresh token (offline_access, API allows it)');
  assert.equal(token.accessToken.split('.').length, 3, 'a JWT access token for the audience');
  const claims = JSON.parse(Buffer.from(token.accessToken.split('.')[1], 'base64url'));
  assert.deepEqual(claims.aud, [audience, `${latch.base}/userinfo`]);
  assert.equal(claims.sub, user.id);

  const profile = await api(token.accessToken).getAuth0UserInfo();
  assert.equal(profile.email, user.email);
  assert.equal(profile.name, user.name);
  assert.equal(profile.userId, user.id);
  assert.ok(profile.updatedAt instanceof Date && profile.updatedAt.getUTCFullYear() >= 2024, `updatedAt ${profile.updatedAt}`);

  // 3. auth0Logout with the browser's cookies ends the SSO session and
  //    follows the redirect to returnTo (the app).
  const cookie = (await context.cookies(latch.base)).map((c) => `${c.name}=${c.value}`).join('; ');
  assert.match(cookie, /latch_session=/);
  const withCookies = async ({ init }) => ({ headers: { ...init.headers, Cookie: cookie } });
  const body = await api().auth0Logout({ clientId, returnTo: `${app.origin}/` }, withCookies);
  assert.match(body, /latch e2e app/, 'followed the redirect to returnTo');

  // The same seed URL with prompt=none now gets login_required by form_post.
  const loggedOut = await authorizeInBrowser(page, `${seedURL({ state: 'after-logout' })}&prompt=none`);
  assert.equal(loggedOut.error, 'login_required');
  assert.equal(loggedOut.state, 'after-logout');
  assert.equal(loggedOut.code, null);
}));
