// Headless Chromium for the e2e suites: Debian's /usr/bin/chromium driven
// by playwright-core, the skip rule (no browser and LATCH_REQUIRE_BROWSER
// unset), screenshots as artifacts, and failure reports that show where the
// browser was, what the page said and what latch logged.

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

/**
 * CHROMIUM is the browser the suite drives: Debian's package, or
 * LATCH_CHROMIUM (a way to check the skip rule without uninstalling it).
 */
export const CHROMIUM = process.env.LATCH_CHROMIUM || '/usr/bin/chromium';

/** ARTIFACTS is where screenshots go (ignored by git); LATCH_E2E_ARTIFACTS overrides it. */
export const ARTIFACTS = resolve(process.env.LATCH_E2E_ARTIFACTS || join(import.meta.dirname, '..', 'artifacts'));

/**
 * browserSkip is false when the browser suite must run, or the reason it
 * is skipped: /usr/bin/chromium is missing and LATCH_REQUIRE_BROWSER is not
 * 1. With LATCH_REQUIRE_BROWSER=1 a missing browser is a failure (see
 * launchBrowser), never a skip.
 */
export function browserSkip() {
  if (existsSync(CHROMIUM) || process.env.LATCH_REQUIRE_BROWSER === '1') return false;
  return `${CHROMIUM} not found: browser suite SKIPPED (apt-get install -y chromium, ` +
    'or set LATCH_REQUIRE_BROWSER=1 to make this a failure)';
}

/** launchBrowser starts headless Chromium with the project's flags. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`LATCH_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** screenshot saves a full-page PNG of page under ARTIFACTS and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * report describes the state of every open page of context (last URL and
 * visible text) and the tail of latch's log from offset logFrom, for a
 * failed step.
 */
export async function report(context, latch, extra = '', logFrom = 0) {
  const parts = [];
  for (const [i, page] of (context?.pages() ?? []).entries()) {
    let text = '';
    try {
      text = await page.evaluate(() => document.body ? document.body.innerText : document.documentElement.outerHTML);
    } catch (err) {
      text = `(page text unavailable: ${err.message})`;
    }
    parts.push(`--- page ${i}: last URL ${page.url()}\n${text.slice(0, 2000)}`);
  }
  if (extra) parts.push(`--- ${extra}`);
  if (latch) parts.push(`--- latch log (tail, this test)\n${latch.logTail(40, logFrom)}`);
  return parts.join('\n');
}

/**
 * scenario wraps a test body that gets a fresh browser context (its own
 * cookies and storage): on failure the error carries report()'s output;
 * the context is closed either way.
 */
export function scenario(getBrowser, getLatch, fn) {
  return async (t) => {
    const context = await getBrowser().newContext({ viewport: { width: 1280, height: 800 } });
    const log = [];
    const logFrom = getLatch()?.logs.length ?? 0;
    context.on('page', (p) => {
      p.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
      p.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    });
    try {
      await fn(context, t);
    } catch (err) {
      const where = await report(context, getLatch(), log.length ? `browser console\n${log.slice(-20).join('\n')}` : '', logFrom);
      const wrapped = new Error(`${err.message}\n${where}`, { cause: err });
      wrapped.stack = `${wrapped.message}\n${err.stack?.split('\n').slice(1).join('\n') ?? ''}`;
      throw wrapped;
    } finally {
      await context.close();
    }
  };
}
