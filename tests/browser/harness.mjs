// What the browser checks share: a real `securescore serve --demo` on a free port (SQLite in a
// temporary directory, or the database in SECURESCORE_BROWSER_DATABASE_URL), Debian's headless
// Chromium, and a page watched for requests that leave the origin and for errors.
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { binary, startServer } from '../support/server.mjs';

export { binary };

export const shots = join(process.cwd(), '../../target/browser');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Starts `serve --demo` (with `extraArgs`) and waits until it is healthy, its log in
 * target/browser/`name`.log; `stop()` ends it and cleans up.
 */
export async function startDemoServer(secret, name, extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'securescore-browser-'));
  const databaseUrl = process.env.SECURESCORE_BROWSER_DATABASE_URL ?? `sqlite://${dir}/browser.db?mode=rwc`;
  const { server, origin } = await startServer(['--demo', '--database-url', databaseUrl, '--jwt-secret', secret, ...extraArgs],
    join(screenshotDir(), `${name}.log`));
  const stop = () => {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return { origin, stop };
    } catch { /* not answering yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  stop();
  throw new Error('the server did not become healthy');
}

/** Launches headless Chromium with nothing reaching out on its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: browserPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Watches `page`: `foreign` collects requests leaving `origin`, `errors` uncaught errors,
 * answers of 400 and above (with their address) and console errors, but those whose text
 * includes one of `tolerated`.
 */
export function watch(page, origin, tolerated = []) {
  const foreign = [];
  const errors = [];
  const report = (text) => {
    if (!tolerated.some((t) => text.includes(t))) errors.push(text);
  };
  page.on('request', (request) => {
    const url = request.url();
    const sameOrigin = url.startsWith(origin) || url.startsWith(origin.replace('http://', 'ws://'));
    if (!sameOrigin && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('response', (response) => {
    if (response.status() >= 400) report(`${response.status()} for ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') report(message.text());
  });
  return { foreign, errors };
}

/** Throws `message` unless `condition`. */
export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** The screenshot directory, created. */
export function screenshotDir() {
  mkdirSync(shots, { recursive: true });
  return shots;
}

/**
 * The same grant as the HS256 `token`, signed again with `secret` for the subject `<sub>-check`:
 * the check's own API calls then spend their own query-cost budget, not the page's.
 */
export function checkerToken(secret, token) {
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ ...claims, sub: `${claims.sub}-check` })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
