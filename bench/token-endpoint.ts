// Requests per second of the token endpoint, refresh_token grant, with rotation.
//
//   npx tsx bench/token-endpoint.ts [--connections 10] [--seconds 5]
//
// Starts the reference server in-process (auto-approve), registers a public client, obtains one
// refresh token per connection (plus spares), then lets autocannon refresh in a loop: every
// request takes a current refresh token from a pool and its response puts the rotated one back,
// so each request is a real, successful rotation (never a reuse). Server and load generator share
// one process and one CPU here, so read the figure as a lower bound, not a capacity claim.

import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { startReferenceServer } from '../reference-server/server.ts';

// autocannon ships no type declarations; this is the subset used here (autocannon README).
interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  requests: (RawRequest & {
    setupRequest?: (req: RawRequest, context: object) => RawRequest;
    onResponse?: (status: number, body: string, context: object) => void;
  })[];
}
interface Histogram {
  average: number;
  p50: number;
  p99: number;
  min: number;
  total: number;
}
interface AutocannonResult {
  requests: Histogram;
  latency: Histogram;
  non2xx: number;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (
  o: AutocannonOptions,
) => Promise<AutocannonResult>;

const { values } = parseArgs({
  options: { connections: { type: 'string', default: '10' }, seconds: { type: 'string', default: '5' } },
});
const connections = Number(values.connections);
const seconds = Number(values.seconds);

const server = await startReferenceServer({ autoApprove: true });
try {
  const issuer = server.issuer;
  const redirectUri = 'http://127.0.0.1/cb';
  const reg = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  const { client_id: clientId } = (await reg.json()) as { client_id: string };

  async function freshRefreshToken(): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = new URL(`${issuer}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: server.url,
    }).toString();
    const authz = await fetch(url, { redirect: 'manual' });
    const code = new URL(authz.headers.get('location')!).searchParams.get('code')!;
    const token = await fetch(`${issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        client_id: clientId,
      }),
    });
    return ((await token.json()) as { refresh_token: string }).refresh_token;
  }

  const pool: string[] = [];
  for (let i = 0; i < connections * 2; i++) pool.push(await freshRefreshToken());

  let rotated = 0;
  const result = await autocannon({
    url: `${issuer}/token`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (req) => {
          const rt = pool.shift();
          if (!rt) return req; // cannot happen with pipelining 1 and a pool of 2 per connection
          return {
            ...req,
            body: new URLSearchParams({
              grant_type: 'refresh_token',
              refresh_token: rt,
              client_id: clientId,
            }).toString(),
          };
        },
        onResponse: (status, body) => {
          if (status !== 200) return;
          rotated++;
          pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
        },
      },
    ],
  });

  console.log(
    JSON.stringify(
      {
        endpoint: 'POST /token (grant_type=refresh_token, rotating)',
        node: process.version,
        connections,
        seconds,
        requestsPerSecond: {
          mean: result.requests.average,
          p50: result.requests.p50,
          min: result.requests.min,
        },
        latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
        total: result.requests.total,
        successfulRotations: rotated,
        non2xx: result.non2xx,
        errors: result.errors,
      },
      null,
      2,
    ),
  );
} finally {
  await server.close();
}
