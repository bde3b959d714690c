// A ProConnect-shaped OpenID Connect provider for tests, on a free loopback port.
// Accounts are whatever login the test types; the test also picks the `acr` the provider
// reports, so that a weaker level than Rempart asked for can be tested: this provider,
// like a careless one, does not enforce the essential `acr` itself (Rempart must).
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider, { interactionPolicy } from 'oidc-provider';

const clientId = process.env.OIDC_CLIENT_ID ?? 'rempart';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'test-secret-not-for-production';
const redirectUri = process.env.OIDC_REDIRECT_URI ?? 'https://rempart.test/api/v1/auth/oidc/callback';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'test-key' };

const policy = interactionPolicy.base();
policy.get('login').checks.remove('essential_acrs');
policy.get('login').checks.remove('essential_acr');

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [jwk] },
    acrValues: ['eidas1', 'eidas2', 'eidas3'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], given_name: ['given_name'], usual_name: ['usual_name'] },
    scopes: ['openid', 'email', 'given_name', 'usual_name'],
    features: { claimsParameter: { enabled: true }, devInteractions: { enabled: false } },
    pkce: { required: () => true },
    cookies: { keys: ['test-cookie-key-not-for-production'] },
    interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, email: `${sub}@example.fr`, email_verified: true, given_name: 'Test', usual_name: sub };
        },
      };
    },
  });
  provider.proxy = false;
  const oidc = provider.callback();

  server.on('request', async (req, res) => {
    const match = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
    if (!match) return oidc(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'consent') {
        // First-party client: consent is implied, record the grant and go on.
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
        const missing = details.prompt.details;
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        const grantId = await grant.save();
        return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      }
      if (req.method === 'GET' && !match[2]) {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        return res.end(`<form method="post" action="/interaction/${details.uid}/login">
          <input name="login"><select name="acr"><option>eidas1</option><option>eidas2</option><option>eidas3</option></select>
          <button>Sign in</button></form>`);
      }
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const result = { login: { accountId: form.get('login'), acr: form.get('acr'), amr: ['pwd', 'otp'] } };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 400;
      return res.end(String(err));
    }
  });
  process.stdout.write(JSON.stringify({ issuer }) + '\n');
});

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
