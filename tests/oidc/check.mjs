// Runs securescore against a real OpenID Provider: oidc-provider (a certified implementation)
// issuing JWT access tokens for the API by the client credentials grant, with app roles and
// the tenant in claims of their own names. Checked, against the binary cargo built:
// - /readyz is 503 and tokens are refused until the provider's keys are loaded;
// - discovery finds the JWKS, the issuer and audience are checked, the claims are mapped;
// - the provider rotates its signing key: tokens signed by the new key are accepted without a
//   restart, and so are tokens signed by the old one while the set still holds it;
// - with the provider stopped, cached keys still verify;
// - a flood of made-up kids causes at most one fetch per --jwks-min-refresh;
// - alg none, HS256 signed with a public key, and a key published for encryption are refused.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import { startServer } from '../support/server.mjs';

const AUDIENCE = 'https://securescore.test/api';
const CLIENT = { client_id: 'partner-app', client_secret: 'partner-app-secret-0123456789abcdef' };
const MIN_REFRESH_SECONDS = 5;

let passed = 0;
let provider;
let server;
const dir = mkdtempSync(join(tmpdir(), 'securescore-oidc-'));
const logs = join(process.cwd(), '../../target');
mkdirSync(logs, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function step(name, body) {
  try {
    await body();
  } catch (error) {
    error.message = `${name}: ${error.message}`;
    throw error;
  }
  passed += 1;
  console.log(`  ok  ${name}`);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function signingKey(kid, use = 'sig') {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: use === 'sig' ? 'RS256' : 'RSA-OAEP', use };
}

/** A key's private half, for signing a test token with it whatever it was published for. */
const signer = ({ alg, use, ...key }) => jose.importJWK(key, 'RS256');

/**
 * Starts oidc-provider at `issuer` with `keys` (the first signs), counting JWKS requests;
 * answers a handle whose `stop()` closes it.
 */
async function startProvider(issuer, port, keys) {
  const oidc = new Provider(issuer, {
    clients: [{ ...CLIENT, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
    jwks: { keys },
    ttl: { ClientCredentials: 600 },
    features: {
      clientCredentials: { enabled: true },
      // Lets the set publish a key for encryption (request objects), which must never verify.
      encryption: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'api', audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // The API's claims, under names of their own (as an Entra ID app would map them).
    extraTokenClaims: () => ({ app_roles: ['PlatformAdmin'], home_tenant: 'contoso' }),
  });
  const handle = { jwksRequests: 0 };
  oidc.use(async (ctx, next) => {
    if (ctx.path === '/jwks') handle.jwksRequests += 1;
    await next();
  });
  const listening = oidc.listen(port, '127.0.0.1');
  await new Promise((resolve) => { listening.once('listening', resolve); });
  handle.stop = () => new Promise((resolve) => { listening.close(resolve); listening.closeAllConnections?.(); });
  return handle;
}

async function accessToken(issuer) {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource: AUDIENCE }),
  });
  const body = await response.json();
  check(response.ok && body.access_token, `no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

async function viewer(origin, token) {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ viewer { subject roles tenantIds } }' }),
  });
  return { status: response.status, body: await response.json() };
}

const kidOf = (token) => jose.decodeProtectedHeader(token).kid;

try {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const first = await signingKey('key-1');

  await step('before the provider answers, /readyz is 503 and tokens are refused', async () => {
    server = await startServer(['--database-url', `sqlite://${dir}/oidc.db?mode=rwc`,
      '--oidc-issuer', issuer, '--jwks-allow-http', '--jwt-audience', AUDIENCE,
      '--jwks-min-refresh', `${MIN_REFRESH_SECONDS}s`, '--jwt-tenant-claim', 'home_tenant',
      '--jwt-roles-claim', 'app_roles'], join(logs, 'oidc-check.log'));
    const ready = await fetch(`${server.origin}/readyz`);
    check(ready.status === 503, `readyz ${ready.status}`);
    const forged = await new jose.SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setIssuer(issuer).setAudience(AUDIENCE).setExpirationTime('5m')
      .sign(await signer(first));
    const refused = await viewer(server.origin, forged);
    check(refused.status === 401 && refused.body.errors[0].message.includes('not loaded yet'), JSON.stringify(refused));
  });

  provider = await startProvider(issuer, port, [first]);

  await step('once the keys are loaded, a token from the provider signs in with its claims', async () => {
    for (let i = 0; i < 50 && (await fetch(`${server.origin}/readyz`)).status !== 200; i++) await sleep(200);
    check((await fetch(`${server.origin}/readyz`)).status === 200, 'readyz never became 200');
    const token = await accessToken(issuer);
    check(kidOf(token) === 'key-1', `kid ${kidOf(token)}`);
    const { status, body } = await viewer(server.origin, token);
    check(status === 200, JSON.stringify(body));
    check(JSON.stringify(body.data.viewer) === JSON.stringify({ subject: CLIENT.client_id, roles: ['PLATFORM_ADMIN'], tenantIds: ['contoso'] }),
      JSON.stringify(body));
  });

  const oldToken = await accessToken(issuer);
  const second = await signingKey('key-2');
  const encryption = await signingKey('enc-1', 'enc');

  await step('the provider rotates its key: the new key is fetched and accepted without a restart', async () => {
    await provider.stop();
    await sleep(MIN_REFRESH_SECONDS * 1000);
    provider = await startProvider(issuer, port, [second, first, encryption]);
    const token = await accessToken(issuer);
    check(kidOf(token) === 'key-2', `kid ${kidOf(token)}`);
    const { status, body } = await viewer(server.origin, token);
    check(status === 200 && body.data.viewer.subject === CLIENT.client_id, JSON.stringify(body));
    check(provider.jwksRequests === 1, `${provider.jwksRequests} JWKS requests for one new kid`);
    const old = await viewer(server.origin, oldToken);
    check(old.status === 200, `the old key, still published, verifies: ${JSON.stringify(old.body)}`);
  });

  await step('a flood of made-up kids fetches at most once per minimum interval', async () => {
    const throwaway = await signer(await signingKey('none'));
    const before = provider.jwksRequests;
    const started = Date.now();
    for (let i = 0; i < 60; i++) {
      const forged = await new jose.SignJWT({ sub: 'intruder' }).setProtectedHeader({ alg: 'RS256', kid: `made-up-${i}` })
        .setIssuer(issuer).setAudience(AUDIENCE).setExpirationTime('5m').sign(throwaway);
      const { status } = await viewer(server.origin, forged);
      check(status === 401, `made-up kid accepted (${status})`);
    }
    const seconds = (Date.now() - started) / 1000;
    const allowed = 1 + Math.floor(seconds / MIN_REFRESH_SECONDS);
    const fetched = provider.jwksRequests - before;
    check(fetched <= allowed, `${fetched} JWKS requests for 60 made-up kids in ${seconds.toFixed(1)} s (at most ${allowed})`);
  });

  await step('alg none, HS256 signed with the public key, and an encryption key are refused', async () => {
    const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = { sub: 'intruder', iss: issuer, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300, app_roles: ['PlatformAdmin'] };
    const none = `${encode({ alg: 'none', kid: 'key-2' })}.${encode(claims)}.`;
    check((await viewer(server.origin, none)).status === 401, 'alg none accepted');
    const publicPem = await jose.exportSPKI(await jose.importJWK({ kty: second.kty, n: second.n, e: second.e }, 'RS256'));
    const hmac = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'key-2' })
      .sign(new TextEncoder().encode(publicPem));
    check((await viewer(server.origin, hmac)).status === 401, 'HS256 with the public key accepted');
    const byEncryptionKey = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'enc-1' })
      .sign(await signer(encryption));
    check((await viewer(server.origin, byEncryptionKey)).status === 401, 'a key for encryption verified a token');
  });

  await step('with the provider gone, cached keys still verify', async () => {
    const token = await accessToken(issuer);
    await provider.stop();
    provider = null;
    const { status, body } = await viewer(server.origin, token);
    check(status === 200 && body.data.viewer.subject === CLIENT.client_id, JSON.stringify(body));
    check((await fetch(`${server.origin}/readyz`)).status === 200, 'still ready');
  });

  console.log(`oidc: ${passed} passed, 0 failed`);
  await provider?.stop();
  server.server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
} catch (error) {
  console.error(`oidc check failed: ${error.stack ?? error}`);
  console.log(`oidc: ${passed} passed, 1 failed`);
  await provider?.stop?.();
  server?.server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}
