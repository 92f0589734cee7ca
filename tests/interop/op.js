// SPDX-License-Identifier: AGPL-3.0-or-later
// A real OpenID Provider for stepupd's interop tests, built on the npm package
// `oidc-provider` (panva, OpenID Certified). Test use only: loopback, in-memory
// state, keys generated at start.
//
//   node op.js --port N --issuer http://127.0.0.1:N --client-id stepup-rp \
//     --client-secret stepup-secret --redirect-uri http://127.0.0.1:P/oidc/callback
//     [--redirect-uri ...] [--id-token-alg RS256|ES256] [--verbose]
//
// Prints "ready" on stdout once listening; exits 0 on SIGTERM/SIGINT.
//
// Login is browserless: GET /interaction/:uid logs in the user named by
// login_hint (default alice) and grants consent (the requested scopes and the
// claims named in the claims parameter, custom ones such as acrs included), so
// `curl -L` with one cookie jar follows the whole flow.
//
// Users:
//   alice  can do MFA. When MFA is asked for (acr_values or a requested acr
//          naming urn:test:loa:3, or any id_token.acrs request) she logs in with
//          acr urn:test:loa:3, amr ["pwd","mfa"], and the ID token carries
//          acrs = the requested acrs value(s). Otherwise acr urn:test:loa:1,
//          amr ["pwd"].
//   bob    cannot do MFA: acr urn:test:loa:1, amr ["pwd"], never acrs. When an
//          *essential* acr he cannot meet (or an essential acrs) is requested,
//          the interaction ends with error=unmet_authentication_requirements
//          (sent to the redirect_uri). A voluntary request (acr_values only)
//          gets loa:1: the RP must refuse it.
//   carol  cannot do MFA and the OP never refuses her: whatever is asked for,
//          she gets acr urn:test:loa:1, amr ["pwd"], no acrs. This is the
//          "lenient OP" case: only the RP's own checks stop her.
//   Any other login_hint ends with error=access_denied.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { interactionPolicy } from 'oidc-provider';

const LOA1 = 'urn:test:loa:1';
const LOA3 = 'urn:test:loa:3';

const USERS = {
  alice: { email: 'alice@example.test', mfa: true, refuses: true },
  bob: { email: 'bob@example.test', mfa: false, refuses: true },
  carol: { email: 'carol@example.test', mfa: false, refuses: false },
};

function usage(msg) {
  process.stderr.write(`op.js: ${msg}\nusage: node op.js --port N --issuer URL --client-id ID `
    + '--client-secret S --redirect-uri URL [--redirect-uri URL ...] '
    + '[--id-token-alg RS256|ES256] [--verbose]\n');
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      issuer: { type: 'string' },
      'client-id': { type: 'string', default: 'stepup-rp' },
      'client-secret': { type: 'string', default: 'stepup-secret' },
      'redirect-uri': { type: 'string', multiple: true },
      'id-token-alg': { type: 'string', default: 'RS256' },
      verbose: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (e) {
  usage(e.message);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) usage('--port is required');
if (!args['redirect-uri']?.length) usage('--redirect-uri is required');
if (!['RS256', 'ES256'].includes(args['id-token-alg'])) usage('--id-token-alg: RS256 or ES256');
const issuer = args.issuer || `http://127.0.0.1:${port}`;
const log = (...m) => { if (args.verbose) process.stderr.write(`op: ${m.join(' ')}\n`); };

// Throwaway signing keys, made fresh at every start.
function jwk(type, opts, alg) {
  const { privateKey } = generateKeyPairSync(type, opts);
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`,
    alg,
    use: 'sig',
  };
}
const jwks = {
  keys: [
    jwk('rsa', { modulusLength: 2048 }, 'RS256'),
    jwk('ec', { namedCurve: 'P-256' }, 'ES256'),
  ],
};

// What the authorization request asked for, from the raw parameters (the
// provider folds acr_values into its own view of the claims request and drops
// the "essential" flag of a claims acr request when acr_values is also sent).
function parseRequest(params) {
  let claims = {};
  if (typeof params.claims === 'string') {
    try { claims = JSON.parse(params.claims) || {}; } catch { claims = {}; }
  }
  const idt = (claims && typeof claims.id_token === 'object' && claims.id_token) || {};
  const ui = (claims && typeof claims.userinfo === 'object' && claims.userinfo) || {};
  const listOf = (c) => {
    if (!c || typeof c !== 'object') return [];
    if (Array.isArray(c.values)) return c.values.map(String);
    if (c.value !== undefined) return [String(c.value)];
    return [];
  };
  const acrValues = typeof params.acr_values === 'string'
    ? params.acr_values.split(' ').filter(Boolean) : [];
  const acrClaim = idt.acr;
  const acrsClaim = idt.acrs;
  const claimAcrs = listOf(acrClaim);
  return {
    claimNames: [...new Set([...Object.keys(idt), ...Object.keys(ui)])],
    acrWanted: [...new Set([...acrValues, ...claimAcrs])],
    acrEssential: !!(acrClaim && acrClaim.essential && claimAcrs.length),
    essentialAcrValues: claimAcrs,
    acrsRequested: acrsClaim !== undefined,
    acrsEssential: !!(acrsClaim && acrsClaim.essential),
    acrsValues: listOf(acrsClaim),
  };
}

const policy = interactionPolicy.base();
// The built-in essential acr checks send the browser back to login until the
// session's acr matches. Our interaction decides once per login (grant, refuse
// with unmet_authentication_requirements, or downgrade for carol), so after a
// fresh login in this same request the check must not loop.
for (const reason of ['essential_acrs', 'essential_acr']) {
  const check = policy.get('login').checks.get(reason);
  const orig = check.check;
  check.check = (ctx) => (ctx.oidc.result?.login ? false : orig(ctx));
}

const configuration = {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: args['redirect-uri'],
    id_token_signed_response_alg: args['id-token-alg'],
  }],
  jwks,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  responseTypes: ['code'],
  pkce: { required: () => true }, // S256 is the only method oidc-provider 9 supports
  acrValues: [LOA1, LOA3],
  scopes: ['openid', 'email'],
  // acr, amr and auth_time ride on the openid scope so every ID token carries
  // them (oidc-provider otherwise puts acr/amr in only when they are
  // requested); acrs is a standalone claim, in the ID token only when it is
  // requested through the claims parameter (and granted at consent).
  claims: {
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    acrs: null,
  },
  features: {
    claimsParameter: { enabled: true },
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
  },
  interactions: {
    policy,
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  clientBasedCORS: () => false,
  async findAccount(ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;
    return {
      accountId: id,
      // `claims` is what the client asked for and was granted, e.g.
      // { acrs: { essential: true, value: "c1" } }.
      async claims(use, scope, claims) {
        const out = { sub: id, email: user.email, email_verified: true };
        if (user.mfa && claims && claims.acrs) {
          const v = parseRequest({ claims: JSON.stringify({ id_token: { acrs: claims.acrs } }) })
            .acrsValues;
          if (v.length) out.acrs = v;
        }
        return out;
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    ctx.body = `<!DOCTYPE html><title>OP error</title><h1>OP error</h1>${
      Object.entries(out).map(([k, v]) => `<p><b>${esc(k)}</b>: ${esc(v)}</p>`).join('')}`;
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => process.stderr.write(`op: server_error: ${err.stack}\n`));
provider.on('authorization.error', (ctx, err) => log('authorization.error', err.message, err.error_description || ''));
provider.on('grant.error', (ctx, err) => log('grant.error', err.message, err.error_description || ''));

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  const want = parseRequest(params);
  const result = {};
  let accountId = session?.accountId;
  log('interaction', prompt.name, JSON.stringify(prompt.reasons), 'login_hint', params.login_hint || '-');

  if (prompt.name === 'login') {
    accountId = params.login_hint || 'alice';
    const user = USERS[accountId];
    if (!user) {
      return provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: `unknown user ${accountId}`,
      }, { mergeWithLastSubmission: false });
    }
    const mfaAsked = want.acrWanted.includes(LOA3) || want.acrsRequested;
    const mfa = user.mfa && mfaAsked;
    const acr = mfa ? LOA3 : LOA1;
    if (!user.mfa && user.refuses) {
      const acrUnmet = want.acrEssential && !want.essentialAcrValues.includes(acr);
      if (acrUnmet || want.acrsEssential) {
        log('interaction', accountId, 'cannot meet', acrUnmet ? 'acr' : 'acrs');
        return provider.interactionFinished(req, res, {
          error: 'unmet_authentication_requirements',
          error_description: `${accountId} cannot satisfy the requested authentication context`,
        }, { mergeWithLastSubmission: false });
      }
    }
    result.login = {
      accountId,
      acr,
      amr: mfa ? ['pwd', 'mfa'] : ['pwd'],
      remember: false,
    };
  }

  // Consent: grant every requested scope and every claim named in the claims
  // parameter (custom claims such as acrs are dropped unless granted here).
  let grant;
  if (details.grantId) grant = await provider.Grant.find(details.grantId);
  if (!grant || grant.accountId !== accountId) {
    grant = new provider.Grant({ accountId, clientId: params.client_id });
  }
  if (params.scope) grant.addOIDCScope(params.scope);
  if (want.claimNames.length) grant.addOIDCClaims(want.claimNames);
  result.consent = { grantId: await grant.save() };

  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const path = (req.url || '').split('?')[0];
  log(req.method, path);
  if (/^\/interaction\/[A-Za-z0-9_-]+$/.test(path)) {
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.writeHead(405, { Allow: 'GET, POST' }).end();
      return;
    }
    interaction(req, res).catch((err) => {
      process.stderr.write(`op: interaction failed: ${err.message}\n`);
      if (!res.headersSent) {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(`interaction failed: ${err.message}\n`);
      }
    });
    return;
  }
  callback(req, res);
});

function stop() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.on('error', (err) => {
  process.stderr.write(`op: listen ${args.host}:${port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, args.host, () => {
  process.stdout.write('ready\n');
});
