// End-to-end test of latch with @auth0/auth0-spa-js in a real browser
// (headless Debian Chromium driven by playwright-core): a real latch
// binary on 127.0.0.1 with a fresh SQLite file, and a test application on
// another port serving a small SPA built on the SDK's UMD bundle. Each
// scenario gets its own browser context (cookies and storage).
//
// Run one file: cd e2e && LATCH_BIN=$PWD/.bin/latch node --test browser.test.mjs
// Without /usr/bin/chromium the file is skipped, unless LATCH_REQUIRE_BROWSER=1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLatch } from './lib/latch.mjs';
import { startApp, SPA_JS_VERSION } from './lib/app.mjs';
import { browserSkip, launchBrowser, scenario, screenshot } from './lib/browser.mjs';

const skip = browserSkip();
const clientId = 'e2e-spa';
const apiId = 'https://api.e2e.test/';
const user = { email: 'ada@example.com', password: 'correct horse battery staple', name: 'Ada Lovelace', username: 'ada' };

// Bounds on how long the SDK waits for a web_message answer, so a broken
// page fails the run quickly instead of after spa-js's 60 s default.
const silent = { authorizeTimeoutInSeconds: 20 };

let latch, app, browser;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  app = await startApp({ clientId });
  latch = await startLatch({
    users: [user],
    yaml: () => `allowed_logout_urls: [${app.origin}/]
connections:
  - { name: Username-Password-Authentication, type: database, signup: true }
apis:
  - { identifier: ${apiId}, name: E2E API, scopes: [read:items], allow_offline_access: true }
clients:
  - client_id: ${clientId}
    name: E2E SPA
    type: spa
    callbacks: [${app.origin}/]
    allowed_logout_urls: [${app.origin}/]
    web_origins: [${app.origin}]
`,
  });
  app.domain = latch.base;
});

after(async () => {
  await browser?.close();
  await latch?.stop();
  await app?.close();
});

const run = (fn) => scenario(() => browser, () => latch, fn);
const isLatch = (path) => (u) => u.origin === latch.base && u.pathname === path;
const atApp = (u) => u.origin === app.origin && u.pathname === '/';
const jwtPart = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url'));

// openApp opens the test application in a new tab of context.
async function openApp(context) {
  const page = await context.newPage();
  await page.goto(`${app.origin}/`);
  assert.equal(await page.evaluate(() => typeof window.auth0?.Auth0Client), 'function', 'spa-js bundle loaded');
  return page;
}

// authorizeRequests records the /authorize URLs the context's pages load.
function authorizeRequests(context) {
  const seen = [];
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin === latch.base && u.pathname === '/authorize') seen.push(u.searchParams);
  });
  return seen;
}

// typeCredentials fills latch's hosted login page the way a user does.
async function typeCredentials(page) {
  await page.waitForURL(isLatch('/u/login'));
  await page.getByLabel('Email address or username').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Continue' }).click();
}

// redirectLogin runs loginWithRedirect with options, logs in on the hosted
// page, and handles the callback back on the app with a client made with
// the same options (kept as window.client).
async function redirectLogin(page, options = {}) {
  await page.evaluate((o) => { window.makeClient(o).loginWithRedirect(); }, options);
  await typeCredentials(page);
  await page.waitForURL((u) => atApp(u) && (u.searchParams.has('code') || u.searchParams.has('error')));
  return page.evaluate(async (o) => {
    const c = window.client = window.makeClient(o);
    await c.handleRedirectCallback();
    return { user: await c.getUser(), claims: await c.getIdTokenClaims() };
  }, options);
}

// silentError runs getTokenSilently({cacheMode: "off"}) on a fresh client
// and returns the error code it fails with (null on success).
function silentError(page) {
  return page.evaluate(async (o) => {
    try {
      await window.makeClient(o).getTokenSilently({ cacheMode: 'off' });
      return null;
    } catch (err) {
      return err.error || err.message;
    }
  }, silent);
}

test(`spa-js ${SPA_JS_VERSION}: loginWithRedirect, hosted login, handleRedirectCallback, getUser, ID token claims`, { skip }, run(async (context) => {
  const authz = authorizeRequests(context);
  const page = await openApp(context);
  const { user: profile, claims } = await redirectLogin(page);

  assert.equal(authz.length, 1, 'one /authorize request');
  const sent = authz[0];
  assert.equal(sent.get('response_type'), 'code');
  assert.equal(sent.get('response_mode'), 'query');
  assert.equal(sent.get('code_challenge_method'), 'S256');
  assert.equal(sent.get('redirect_uri'), `${app.origin}/`);

  assert.equal(profile.sub, user.id);
  assert.equal(profile.email, user.email);
  assert.equal(profile.name, user.name);
  assert.equal(profile.email_verified, false);
  assert.match(profile.picture, /^https:\/\//);

  assert.equal(claims.iss, `${latch.base}/`);
  assert.equal(claims.aud, clientId);
  assert.equal(claims.sub, user.id);
  assert.ok(claims.nonce, 'nonce claim present');
  assert.equal(claims.nonce, sent.get('nonce'), 'the nonce spa-js sent');
  assert.ok(claims.sid, 'sid claim present');
  assert.equal(typeof claims.auth_time, 'number');
  assert.equal(jwtPart(claims.__raw, 0).alg, 'RS256');
  assert.ok(await page.evaluate(() => window.client.isAuthenticated()));
}));

test('spa-js: getTokenSilently through the hidden iframe (web_message); login_required after /v2/logout', { skip }, run(async (context) => {
  const authz = authorizeRequests(context);
  const page = await openApp(context);
  await redirectLogin(page, silent);

  // A fresh client has nothing cached: it must ask latch in an iframe.
  const res = await page.evaluate(async (o) => window.makeClient(o).getTokenSilently({ cacheMode: 'off', detailedResponse: true }), silent);
  assert.equal(authz.length, 2, 'the login and one silent /authorize');
  const sent = authz[1];
  assert.equal(sent.get('prompt'), 'none');
  assert.equal(sent.get('response_mode'), 'web_message');
  assert.ok(res.access_token, 'an access token');
  const idClaims = jwtPart(res.id_token, 1);
  assert.equal(idClaims.sub, user.id);
  assert.equal(idClaims.nonce, sent.get('nonce'));

  // End the SSO session in the browser; silent auth now needs a login.
  const logout = await page.goto(`${latch.base}/v2/logout`);
  assert.equal(logout.status(), 200);
  assert.equal((await page.textContent('body')).trim(), 'OK');
  await page.goto(`${app.origin}/`);
  assert.equal(await silentError(page), 'login_required');
}));

test('spa-js: useRefreshTokens refreshes through /oauth/token and the refresh token rotates', { skip }, run(async (context) => {
  const options = { useRefreshTokens: true, cacheLocation: 'localstorage' };
  const page = await openApp(context);
  await redirectLogin(page, options);

  const storedRefreshToken = () => page.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith('@@auth0spajs@@::') && !k.endsWith('@@user@@'));
    return key && JSON.parse(localStorage.getItem(key)).body.refresh_token;
  });
  const refresh = async () => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${latch.base}/oauth/token` && r.request().method() === 'POST'),
      page.evaluate(() => window.client.getTokenSilently({ cacheMode: 'off' })),
    ]);
    return { sent: new URLSearchParams(response.request().postData()), status: response.status(), body: await response.json() };
  };

  const first = await storedRefreshToken();
  assert.ok(first, 'a refresh token after login (offline_access)');
  const r1 = await refresh();
  assert.equal(r1.status, 200);
  assert.equal(r1.sent.get('grant_type'), 'refresh_token');
  assert.equal(r1.sent.get('refresh_token'), first);
  assert.ok(r1.body.refresh_token && r1.body.refresh_token !== first, 'a new refresh token');
  assert.ok(r1.body.id_token, 'a new ID token');
  assert.equal(jwtPart(r1.body.id_token, 1).nonce, undefined, 'refreshed ID tokens carry no nonce');
  assert.equal(await storedRefreshToken(), r1.body.refresh_token, 'spa-js stored the rotated token');

  // The next refresh uses the rotated token and works.
  const r2 = await refresh();
  assert.equal(r2.status, 200);
  assert.equal(r2.sent.get('refresh_token'), r1.body.refresh_token);
  assert.notEqual(r2.body.refresh_token, r1.body.refresh_token);

  // The rotated-out token is refused (reuse detection).
  const reuse = await fetch(`${latch.base}/oauth/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: first }),
  });
  assert.equal(reuse.status, 403);
  assert.equal((await reuse.json()).error, 'invalid_grant');
}));

test('spa-js: useRefreshTokens with the default in-memory cache refreshes from its web worker', { skip }, run(async (context) => {
  const authz = authorizeRequests(context);
  const page = await openApp(context);
  await redirectLogin(page, { useRefreshTokens: true });
  // The worker's fetches are seen by the browser context; waiting for the
  // response event (not counting log lines) keeps this free of races.
  const refresh = async () => {
    const [response, token] = await Promise.all([
      context.waitForEvent('response', (r) => r.url() === `${latch.base}/oauth/token` && r.request().method() === 'POST'),
      page.evaluate(() => window.client.getTokenSilently({ cacheMode: 'off' })),
    ]);
    assert.equal(response.status(), 200);
    assert.equal(new URLSearchParams(response.request().postData()).get('grant_type'), 'refresh_token');
    return token;
  };

  const cached = await page.evaluate(() => window.client.getTokenSilently());
  const fresh = await refresh();
  assert.notEqual(fresh, cached, 'a new access token');
  // Rotation inside the worker: the next refresh uses the new token and works.
  const again = await refresh();
  assert.notEqual(again, fresh);
  assert.equal(authz.length, 1, 'no iframe fallback: only the login went to /authorize');
  assert.ok(page.workers().some((w) => w.url().startsWith(`blob:${app.origin}/`)), "spa-js's token worker runs");
}));

test('spa-js: loginWithPopup (popup + web_message)', { skip }, run(async (context) => {
  const authz = authorizeRequests(context);
  const page = await openApp(context);
  const popupOpened = context.waitForEvent('page');
  const result = page.evaluate(async () => {
    const c = window.client = window.makeClient();
    await c.loginWithPopup({}, { timeoutInSeconds: 30 });
    return { user: await c.getUser(), claims: await c.getIdTokenClaims() };
  });
  const popup = await popupOpened;
  await typeCredentials(popup);
  const { user: profile, claims } = await result;

  assert.equal(authz.length, 1);
  assert.equal(authz[0].get('response_mode'), 'web_message');
  assert.equal(profile.email, user.email);
  assert.equal(claims.iss, `${latch.base}/`);
  assert.equal(claims.nonce, authz[0].get('nonce'));
  assert.ok(popup.isClosed() || (await popup.waitForEvent('close')), 'spa-js closed the popup');
}));

test('spa-js: an audience naming an API gives a JWT access token that /userinfo accepts', { skip }, run(async (context) => {
  const options = { authorizationParams: { audience: apiId, scope: 'openid profile email read:items' } };
  const page = await openApp(context);
  await redirectLogin(page, options);
  const token = await page.evaluate(() => window.client.getTokenSilently());

  assert.equal(token.split('.').length, 3, 'a JWT');
  const claims = jwtPart(token, 1);
  assert.equal(jwtPart(token, 0).alg, 'RS256');
  assert.deepEqual(claims.aud, [apiId, `${latch.base}/userinfo`]);
  assert.equal(claims.iss, `${latch.base}/`);
  assert.equal(claims.sub, user.id);
  assert.equal(claims.azp, clientId);
  assert.ok(claims.scope.split(' ').includes('read:items'), `scope ${claims.scope}`);

  // From the page, as an app would (a CORS request with Authorization).
  const info = await page.evaluate(async ([base, t]) => {
    const res = await fetch(`${base}/userinfo`, { headers: { Authorization: `Bearer ${t}` } });
    return { status: res.status, body: await res.json() };
  }, [latch.base, token]);
  assert.equal(info.status, 200);
  assert.equal(info.body.sub, user.id);
  assert.equal(info.body.email, user.email);
}));

test('spa-js: logout({ logoutParams: { returnTo } }) lands on the app with the session gone', { skip }, run(async (context) => {
  const page = await openApp(context);
  await redirectLogin(page);
  assert.ok((await context.cookies(latch.base)).some((c) => c.name === 'latch_session'), 'an SSO cookie');

  const logoutRequest = page.waitForRequest((r) => new URL(r.url()).pathname === '/v2/logout');
  await page.evaluate(() => { window.client.logout({ logoutParams: { returnTo: `${location.origin}/` } }); });
  const sent = new URL((await logoutRequest).url()).searchParams;
  assert.equal(sent.get('client_id'), clientId);
  assert.equal(sent.get('returnTo'), `${app.origin}/`);
  await page.waitForURL((u) => atApp(u) && u.search === '');

  assert.equal(await page.evaluate(() => window.makeClient().isAuthenticated()), false);
  assert.equal(await silentError(page), 'login_required');
  assert.ok(!(await context.cookies(latch.base)).some((c) => c.name === 'latch_session'), 'the SSO cookie is gone');
}));

// The hosted pages, at a laptop's and a phone's width: saved as artifacts
// (e2e/artifacts/*.png) for a person to look at, and checked for the
// things a screenshot shows at a glance: labelled fields, no sideways scroll.
const widths = [['laptop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]];

test('hosted pages: login, signup (and a new user signing up) and error pages at laptop and phone widths (screenshots)', { skip }, run(async (context) => {
  const page = await openApp(context);
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  const saved = [];

  await page.evaluate(() => { window.makeClient().loginWithRedirect(); });
  await page.waitForURL(isLatch('/u/login'));
  const loginURL = page.url();
  for (const [name, size] of widths) {
    await page.setViewportSize(size);
    assert.ok(await page.getByLabel('Email address or username').isVisible());
    assert.ok(await page.getByLabel('Password').isVisible());
    assert.ok(await fits(), `login page fits a ${name}`);
    saved.push(await screenshot(page, `login-${name}`));
  }
  await page.getByLabel('Email address or username').fill(user.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /Wrong email or password/);
  saved.push(await screenshot(page, 'login-wrong-password-phone'));

  await page.goto(`${app.origin}/`);
  await page.evaluate(() => { window.makeClient({ authorizationParams: { screen_hint: 'signup' } }).loginWithRedirect(); });
  await page.waitForURL(isLatch('/u/signup'));
  for (const [name, size] of widths) {
    await page.setViewportSize(size);
    assert.ok(await page.getByLabel('Password').isVisible());
    assert.ok(await fits(), `signup page fits a ${name}`);
    saved.push(await screenshot(page, `signup-${name}`));
  }
  // A new user signs up on the page and arrives back at the app logged in.
  await page.getByLabel('Email address').fill('grace@example.com');
  await page.getByLabel('Password').fill('another long passphrase');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL((u) => atApp(u) && u.searchParams.has('code'));
  const signedUp = await page.evaluate(async () => {
    const c = window.makeClient();
    await c.handleRedirectCallback();
    return c.getUser();
  });
  assert.equal(signedUp.email, 'grace@example.com');
  assert.match(signedUp.sub, /^auth0\|[0-9a-f]{24}$/);

  const bad = new URLSearchParams({ client_id: 'no-such-client', response_type: 'code', redirect_uri: `${app.origin}/` });
  const res = await page.goto(`${latch.base}/authorize?${bad}`);
  assert.equal(res.status(), 400);
  assert.match(await page.textContent('body'), /no-such-client/);
  for (const [name, size] of widths) {
    await page.setViewportSize(size);
    assert.ok(await fits(), `error page fits a ${name}`);
    saved.push(await screenshot(page, `error-${name}`));
  }
  assert.ok(loginURL.includes('/u/login?state='));
  console.log(`screenshots:\n  ${saved.join('\n  ')}`);
}));
