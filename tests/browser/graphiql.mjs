// Drives Debian's headless Chromium against a real securescore server with demo data: the
// GraphiQL page renders its editor with no request leaving the server's origin, the schema
// loads with the pasted token (introspection with it), a query returns data in the result
// pane, and once the (small) query-cost budget is spent the refusal shows with its time to
// wait. Screenshots go to target/browser/graphiql*.png.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { binary, check, launchBrowser, screenshotDir, startDemoServer, watch } from './harness.mjs';

const secret = 'browser-check-secret-0123456789abcdef';
const token = execFileSync(binary, ['token', '--role', 'security-reader', '--tenant', 'contoso',
  '--subject', 'browser-check', '--jwt-secret', secret]).toString().trim();

let browser;
let server;
async function finish(failure) {
  if (browser) await browser.close();
  server?.stop();
  if (failure) {
    console.error(`graphiql browser check failed: ${failure.stack ?? failure}`);
    console.log('browser: 0 passed, 1 failed');
    process.exit(1);
  }
  console.log('browser: 1 passed, 0 failed');
  process.exit(0);
}

try {
  // A small query-cost budget, so that the check also sees a throttled answer.
  server = await startDemoServer(secret, 'graphiql', ['--cost-bucket', '5000', '--cost-restore', '10']);
  const { origin } = server;
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const { foreign, errors } = watch(page, origin, ['401', '429']);

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

  await page.screenshot({ path: join(screenshotDir(), 'graphiql.png') });

  // Spending the budget: the answer that is refused says so, with the time to wait.
  await page.evaluate(() => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
      .setValue('query Me { tenants(first: 100) { edges { node { id name industry seatCount } } } }');
  });
  for (let i = 0; i < 20; i++) {
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() => {
      const text = document.querySelector('.result-window')?.textContent ?? '';
      return text.includes('"edges"') || text.includes('RATE_LIMITED');
    }, null, { timeout: 30000 });
    if ((await page.textContent('.result-window')).includes('RATE_LIMITED')) break;
    await page.evaluate(() => { document.querySelector('.result-window .CodeMirror')?.CodeMirror?.setValue(''); });
  }
  const throttled = await page.textContent('.result-window');
  check(throttled.includes('RATE_LIMITED') && /retry in \d+ s/.test(throttled) && throttled.includes('throttleStatus'),
    `no throttled answer shown: ${throttled.slice(0, 400)}`);
  await page.screenshot({ path: join(screenshotDir(), 'graphiql-throttled.png') });
  check(foreign.length === 0, `requests left the origin: ${foreign.join(', ')}`);
  check(errors.length === 0, `the page reported errors: ${errors.join(' | ')}`);
  await finish();
} catch (error) {
  await finish(error);
}
