// The test application: a node:http server on its own 127.0.0.1 port that
// serves a small SPA page built on @auth0/auth0-spa-js (the UMD bundle from
// its npm package) and the Pieces callback /pkce/response/code, which
// records the code and state that latch form_posts to it.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { closeServer, listen } from './latch.mjs';

const require = createRequire(import.meta.url);
const spaDir = dirname(require.resolve('@auth0/auth0-spa-js/package.json'));
/** SPA_JS_VERSION is the installed @auth0/auth0-spa-js version. */
export const SPA_JS_VERSION = JSON.parse(readFileSync(join(spaDir, 'package.json'), 'utf8')).version;
const bundle = readFileSync(join(spaDir, 'dist', 'auth0-spa-js.production.js'));

const escapeJSON = (v) => JSON.stringify(v).replace(/</g, '\\u003c');

// page is the SPA: window.makeClient(options) builds an Auth0Client for
// latch with redirect_uri = the app's origin + "/", options merged in.
function page(settings) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>latch e2e app</title>
<script src="/auth0-spa-js.production.js"></script>
<script>
window.LATCH = ${escapeJSON(settings)};
window.makeClient = function (options) {
  options = options || {};
  var params = Object.assign({ redirect_uri: location.origin + "/" }, options.authorizationParams);
  return new auth0.Auth0Client(Object.assign({ domain: LATCH.domain, clientId: LATCH.clientId }, options,
    { authorizationParams: params }));
};
</script>
</head>
<body>
<h1>latch e2e app</h1>
<p id="where">This is the application.</p>
</body>
</html>
`;
}

function readBody(req) {
  return new Promise((ok, fail) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => ok(body));
    req.on('error', fail);
  });
}

/**
 * App is the running test application. received lists the form posts that
 * reached /pkce/response/code, oldest first.
 */
export class App {
  origin = '';
  /** @type {string} latch's origin (no trailing slash): the SPA's domain; set once latch runs */
  domain = '';
  clientId = '';
  /** @type {{code: string|null, state: string|null, error: string|null, body: URLSearchParams}[]} */
  received = [];
  server = null;

  /** close stops the server. */
  close() { return closeServer(this.server); }
}

/**
 * startApp serves the SPA for clientId on a free port. Set app.domain to
 * latch's origin before a browser loads the page (latch's config needs
 * the app's origin first).
 */
export async function startApp({ clientId }) {
  const app = new App();
  app.clientId = clientId;
  app.server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://app.invalid');
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(page({ domain: app.domain, clientId: app.clientId }));
    } else if (req.method === 'GET' && url.pathname === '/auth0-spa-js.production.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      res.end(bundle);
    } else if (req.method === 'POST' && url.pathname === '/pkce/response/code') {
      const body = new URLSearchParams(await readBody(req));
      app.received.push({ code: body.get('code'), state: body.get('state'), error: body.get('error'), body });
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><title>callback</title><p id="result">The application received the response.</p>');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
  app.origin = await listen(app.server);
  return app;
}
