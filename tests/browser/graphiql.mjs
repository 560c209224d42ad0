// Drives Debian's headless Chromium against a real securescore server with demo data: the
// GraphiQL page renders its editor with no request leaving the server's origin, the schema
// loads with the pasted token (introspection with it), and a query returns data in the result
// pane. A screenshot goes to target/browser/graphiql.png.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const binary = process.env.SECURESCORE_BIN ?? join(process.cwd(), '../../target/debug/securescore');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const secret = 'browser-check-secret-0123456789abcdef';
const port = 20000 + Math.floor(Math.random() * 20000);
const origin = `http://127.0.0.1:${port}`;
const shots = join(process.cwd(), '../../target/browser');

const dir = mkdtempSync(join(tmpdir(), 'securescore-browser-'));
const server = spawn(binary, ['serve', '--demo', '--bind', `127.0.0.1:${port}`,
  '--database-url', `sqlite://${dir}/browser.db?mode=rwc`, '--jwt-secret', secret],
{ stdio: ['ignore', 'ignore', 'inherit'] });
const token = execFileSync(binary, ['token', '--role', 'security-reader', '--tenant', 'contoso',
  '--subject', 'browser-check', '--jwt-secret', secret]).toString().trim();

let browser;
async function finish(failure) {
  if (browser) await browser.close();
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  if (failure) {
    console.error(`graphiql browser check failed: ${failure.stack ?? failure}`);
    console.log('browser: 0 passed, 1 failed');
    process.exit(1);
  }
  console.log('browser: 1 passed, 0 failed');
  process.exit(0);
}

async function waitUntilHealthy() {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the server did not become healthy');
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

try {
  await waitUntilHealthy();
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const foreign = [];
  const errors = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) {
      foreign.push(url);
    }
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('response', (response) => {
    if (response.status() === 404) errors.push(`404 for ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('401')) errors.push(message.text());
  });

  await page.goto(`${origin}/graphql`);
  await page.waitForSelector('.graphiql-container .graphiql-query-editor', { timeout: 30000 });

  // Paste the token once: the schema is fetched again with it, and it answers.
  const introspection = page.waitForResponse((response) =>
    response.url() === `${origin}/graphql`
      && (response.request().postData() ?? '').includes('__schema')
      && response.request().headers().authorization === `Bearer ${token}`, { timeout: 30000 });
  await page.fill('#token', token);
  await page.click('#token-form button[type=submit]');
  const schema = await (await introspection).json();
  check(schema.data?.__schema?.queryType?.name === 'Query', `no schema: ${JSON.stringify(schema).slice(0, 300)}`);

  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30000 });
  await page.evaluate(() => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
      .setValue('query Me { viewer { subject roles } tenant(id: "contoso") { name score { percentage } } }');
  });
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => {
    const result = document.querySelector('.result-window');
    return result && result.textContent.includes('"browser-check"') && result.textContent.includes('Contoso Ltd');
  }, null, { timeout: 30000 });

  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, 'graphiql.png') });
  check(foreign.length === 0, `requests left the origin: ${foreign.join(', ')}`);
  check(errors.length === 0, `the page reported errors: ${errors.join(' | ')}`);
  await finish();
} catch (error) {
  await finish(error);
}
