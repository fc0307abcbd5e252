// Shared helpers for the e2e suites: start a real latch binary on a free
// 127.0.0.1 port with a fresh SQLite file and a test config, create users
// with the CLI, keep its log for failure reports, and stop it again.

import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..', '..');

/** freePort asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** listen starts an http.Server on a free 127.0.0.1 port and returns its origin. */
export async function listen(server) {
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  return `http://127.0.0.1:${server.address().port}`;
}

/** closeServer closes server and every connection still open on it. */
export function closeServer(server) {
  if (!server || !server.listening) return Promise.resolve();
  server.closeAllConnections?.();
  return new Promise((r) => server.close(() => r()));
}

/**
 * Latch is one running `latch serve`. Create it with startLatch.
 */
export class Latch {
  /** @type {string} the issuer origin, http://127.0.0.1:<port> (no trailing slash) */
  base = '';
  /** @type {string} everything latch wrote to stdout and stderr */
  logs = '';
  dir = '';
  bin = '';
  config = '';
  secret = randomBytes(24).toString('hex');
  proc = null;

  /** cli runs a latch CLI command against this instance's config and returns its stdout. */
  cli(args, input) {
    return execFileSync(this.bin, [...args, '--config', this.config], {
      input, env: { ...process.env, LATCH_SECRET: this.secret }, encoding: 'utf8',
    });
  }

  /** createUser makes a database user with `latch users create` and returns its user_id. */
  createUser({ email, password, name, username }) {
    const args = ['users', 'create', '--email', email, '--password-stdin'];
    if (name) args.push('--name', name);
    if (username) args.push('--username', username);
    return this.cli(args, `${password}\n`).trim();
  }

  /** logTail returns the last n lines of latch's log written after offset from. */
  logTail(n = 40, from = 0) {
    return this.logs.slice(from).trimEnd().split('\n').slice(-n).join('\n');
  }

  /** stop sends SIGTERM, waits for the exit and removes the temp folder. */
  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * latchBinary returns $LATCH_BIN (scripts/test builds it), or builds
 * ./cmd/latch into dir when it is unset.
 */
function latchBinary(dir) {
  if (process.env.LATCH_BIN) return process.env.LATCH_BIN;
  const bin = join(dir, 'latch');
  execFileSync('go', ['build', '-o', bin, './cmd/latch'], { cwd: repo, stdio: 'inherit' });
  return bin;
}

/**
 * startLatch writes a config made by yaml(base, dir) (base is the issuer
 * origin without the trailing slash), creates the given users, starts
 * `latch serve` and waits until /healthz answers.
 */
export async function startLatch({ yaml, users = [] }) {
  const l = new Latch();
  l.dir = mkdtempSync(join(tmpdir(), 'latch-e2e-'));
  l.bin = latchBinary(l.dir);
  const port = await freePort();
  l.base = `http://127.0.0.1:${port}`;
  l.config = join(l.dir, 'latch.yaml');
  writeFileSync(l.config, `issuer: ${l.base}/
listen: 127.0.0.1:${port}
database: sqlite:${join(l.dir, 'latch.db')}
${yaml(l.base)}`);
  for (const u of users) u.id = l.createUser(u);

  l.proc = spawn(l.bin, ['serve', '--config', l.config], {
    env: { ...process.env, LATCH_SECRET: l.secret }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  l.proc.stdout.on('data', (d) => { l.logs += d; });
  l.proc.stderr.on('data', (d) => { l.logs += d; });
  for (let i = 0; i < 400; i++) {
    try {
      const res = await fetch(`${l.base}/healthz`);
      if (res.ok) return l;
    } catch { /* not listening yet */ }
    if (l.proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const logs = l.logs;
  await l.stop();
  throw new Error(`latch did not become healthy:\n${logs}`);
}
