// What the reference-server fuzzer sends: fast-check arbitraries of malformed and adversarial
// HTTP requests to every endpoint, and how a generated case becomes bytes on the wire.
//
// Most cases start from a request the server would accept and damage it a little (drop, repeat,
// rename or replace a parameter, a JSON member, a header), so that the fuzzer reaches the deep
// checks and not only the first refusal. Values it cannot know in advance (a fresh authorization
// code, a valid access token, the consent page's request_id) are named as fixtures and filled in
// when the case runs (fixtures.ts). Other cases are raw: random bytes, damaged bytes, oversize
// headers and bodies, pipelines behind an `Upgrade:` request, bodies whose length lies.
//
// Every URL a case can make the server fetch (a Client ID Metadata Document) is an IP literal
// the server refuses before connecting, so fuzzing never reaches the network.

import fc from 'fast-check';

/** A value known only when the case runs. */
export type FixtureName =
  | 'token'
  | 'narrowToken'
  | 'publicClient'
  | 'confidentialClient'
  | 'basicAuth'
  | 'code'
  | 'verifier'
  | 'challenge'
  | 'refreshToken'
  | 'requestId'
  | 'csrf'
  | 'sessionId'
  | 'resource'
  | 'redirectUri'
  | 'origin';

export type Text = string | { fixture: FixtureName };

/** JSON as written on the wire: objects are entry lists, so `__proto__` and repeated keys survive. */
export type Json = null | boolean | number | string | Json[] | { entries: [string, Json][] };

export type Body =
  | { kind: 'json'; value: Json }
  | { kind: 'form'; fields: [string, Text][] }
  | { kind: 'text'; text: string }
  | { kind: 'filler'; bytes: number };

export interface RequestSpec {
  method: string;
  /** Path and query as written on the request line; query values may be fixtures. */
  path: string;
  query?: [string, Text][];
  headers: [string, Text][];
  body?: Body;
  /**
   * How the body is framed: an exact Content-Length, chunked, none at all, or a Content-Length
   * that claims more bytes than follow (the request never completes; the client hangs up).
   */
  framing: 'length' | 'chunked' | 'none' | 'overstated';
  /** A Host header other than the server's own authority. */
  host?: string;
  /** The request target in absolute form (`http://authority/path`), which servers MUST accept. */
  absolute?: boolean;
}

/** A byte-level injury to the rendered requests, placed at `at` ‰ of their length. */
export interface Damage {
  op: 'flip' | 'insert' | 'delete' | 'truncate';
  at: number;
  bytes: number[];
}

export interface FuzzCase {
  /** `auto`: auto-approve, no public methods; `consent`: consent page, some public methods. */
  server: 'auto' | 'consent';
  /** The endpoint or shape, for the statistics. */
  kind: string;
  /** Sent back to back on one connection; the last one asks to close it. */
  requests: RequestSpec[];
  /** Raw bytes after the requests (a malformed request in a pipeline, or all of a garbage case). */
  tail?: number[];
  damage?: Damage[];
}

// ---------------------------------------------------------------------------------------------
// Building blocks

export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
  'prototype',
];

const fixture = (name: FixtureName): Text => ({ fixture: name });
const server = fc.constantFrom<'auto' | 'consent'>('auto', 'consent');

/** Strings an attacker likes: prototype names, empty, huge, control and non-ASCII characters. */
const nasty: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ...PROTOTYPE_NAMES,
    '',
    ' ',
    'null',
    'undefined',
    'NaN',
    '-1',
    '1e309',
    '%00',
    '%zz',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    '"',
    '\\',
    '\u0000',
    '\u202e',
    '🙂',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer({ min: 100, max: 6000 }).map((n) => 'A'.repeat(n)),
);

/** What may stand in a header value without breaking the message framing (no CR, no LF). */
const headerSafe = (text: string) => text.replace(/[\r\n]/g, '');

/** JSON values, objects with hostile keys (and sometimes the same key twice). */
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    nasty,
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), nasty), tie('value')), { maxLength: 5 })
      .map((entries) => ({ entries })),
  ),
})).value;

type Mutation<V> =
  | { op: 'drop'; at: number }
  | { op: 'set'; at: number; value: V }
  | { op: 'repeat'; at: number; value: V }
  | { op: 'add'; name: string; value: V }
  | { op: 'rename'; at: number; name: string };

/** No change `unchanged` times in three (so the deep checks are reached), else one to three. */
function mutations<V>(
  names: fc.Arbitrary<string>,
  values: fc.Arbitrary<V>,
  unchanged = 1,
): fc.Arbitrary<Mutation<V>[]> {
  const at = fc.nat({ max: 31 });
  const one: fc.Arbitrary<Mutation<V>> = fc.oneof(
    fc.record({ op: fc.constant('drop' as const), at }),
    fc.record({ op: fc.constant('set' as const), at, value: values }),
    fc.record({ op: fc.constant('repeat' as const), at, value: values }),
    fc.record({ op: fc.constant('add' as const), name: names, value: values }),
    fc.record({ op: fc.constant('rename' as const), at, name: names }),
  );
  return fc.oneof(
    { weight: unchanged, arbitrary: fc.constant<Mutation<V>[]>([]) },
    { weight: 3 - unchanged, arbitrary: fc.array(one, { minLength: 1, maxLength: 3 }) },
  );
}

/** Mostly `usual`, sometimes one of the others. */
function mostly<T>(usual: T, others: fc.Arbitrary<T>, weight = 4): fc.Arbitrary<T> {
  return fc.oneof({ weight, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: others });
}

/** A list of named entries, changed by the mutations (positions taken modulo the length). */
function mutate<V>(entries: [string, V][], list: Mutation<V>[]): [string, V][] {
  const out = [...entries];
  for (const m of list) {
    if (m.op === 'add') {
      out.push([m.name, m.value]);
      continue;
    }
    if (out.length === 0) continue;
    const i = m.at % out.length;
    const [name] = out[i]!;
    if (m.op === 'drop') out.splice(i, 1);
    else if (m.op === 'set') out[i] = [name, m.value];
    else if (m.op === 'repeat') out.push([name, m.value]);
    else out[i] = [m.name, out[i]![1]];
  }
  return out;
}

const headerName = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES, 'X-Forwarded-For', 'Cookie', 'Authorization', 'Content-Type', 'Host'),
  fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,30}$/),
);
const headerValue: fc.Arbitrary<Text> = fc.oneof(
  nasty.map(headerSafe),
  fc.constantFrom<FixtureName>('token', 'sessionId', 'origin').map(fixture),
);
const extraHeaders = mostly<[string, Text][]>(
  [],
  fc.array(fc.tuple(headerName, headerValue), { minLength: 1, maxLength: 3 }),
  5,
);

const contentType = (usual: string) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(usual) },
    fc.constantFrom(
      `${usual}; charset=utf-8`,
      usual.toUpperCase(),
      'application/json',
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
      '',
    ),
    nasty.map(headerSafe),
  );

/** URLs a client_id or redirect_uri may name; every fetchable one is refused before connecting. */
const urlValue: fc.Arbitrary<string> = fc.constantFrom(
  'https://127.0.0.1/client.json',
  'https://10.0.0.1/client.json',
  'https://[::1]/client.json',
  'https://169.254.169.254/latest/meta-data',
  'https://0.0.0.0/x',
  'http://127.0.0.1:1/cb',
  'http://localhost/cb',
  'https://app.example/cb',
  'javascript:alert(1)',
  'data:text/html,x',
  'https://127.0.0.1/a/../b',
  'https://user:pw@127.0.0.1/x',
  'https://127.0.0.1/x#frag',
);

/** A body other than the one the endpoint expects: JSON of any shape, binary, cut short, empty. */
const strangeBody: fc.Arbitrary<Body> = fc.oneof(
  json.map((value): Body => ({ kind: 'json', value })),
  fc.string({ unit: 'binary', maxLength: 200 }).map((text): Body => ({ kind: 'text', text })),
  fc.constant<Body>({ kind: 'text', text: '{"unterminated": ' }),
  fc.constant<Body>({ kind: 'text', text: '' }),
);

// ---------------------------------------------------------------------------------------------
// One arbitrary per endpoint

const MCP_METHODS = [
  'initialize',
  'notifications/initialized',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'server/discover',
  'notifications/cancelled',
  'sampling/createMessage',
  'roots/list',
];
const REVISIONS = ['2025-06-18', '2025-11-25', '2026-07-28'] as const;

/** A JSON-RPC request the endpoint would accept for `revision`, as entries. */
function mcpMessage(
  revision: string,
  method: string,
  toolName: string,
  id: Json | undefined,
): [string, Json][] {
  const params: [string, Json][] = [];
  if (method === 'tools/call') {
    params.push(['name', toolName], ['arguments', { entries: [['text', 'hello']] }]);
  } else if (method === 'prompts/get') {
    params.push(['name', 'greet'], ['arguments', { entries: [['name', 'x']] }]);
  } else if (method === 'resources/read') {
    params.push(['uri', 'notes://all']);
  } else if (method === 'initialize') {
    params.push(
      ['protocolVersion', revision],
      ['capabilities', { entries: [] }],
      [
        'clientInfo',
        {
          entries: [
            ['name', 'fuzz'],
            ['version', '1'],
          ],
        },
      ],
    );
  }
  if (revision === '2026-07-28') {
    params.push([
      '_meta',
      {
        entries: [
          ['io.modelcontextprotocol/protocolVersion', revision],
          ['io.modelcontextprotocol/clientCapabilities', { entries: [] }],
          [
            'io.modelcontextprotocol/clientInfo',
            {
              entries: [
                ['name', 'fuzz'],
                ['version', '1'],
              ],
            },
          ],
        ],
      },
    ]);
  }
  const message: [string, Json][] = [
    ['jsonrpc', '2.0'],
    ['method', method],
  ];
  if (id !== undefined) message.push(['id', id]);
  if (params.length > 0) message.push(['params', { entries: params }]);
  return message;
}

const authorization: fc.Arbitrary<[string, Text][]> = fc.oneof(
  fc.constant<[string, Text][]>([]),
  { weight: 10, arbitrary: fc.constant<[string, Text][]>([['Authorization', { fixture: 'token' }]]) },
  fc.constant<[string, Text][]>([['Authorization', { fixture: 'narrowToken' }]]),
  nasty.map((t): [string, Text][] => [['Authorization', headerSafe(`Bearer ${t}`)]]),
  fc
    .tuple(json, json)
    .map(([h, p]): [string, Text][] => [
      ['Authorization', `Bearer ${b64(serializeJson(h))}.${b64(serializeJson(p))}.c2ln`],
    ]),
  fc.constantFrom<[string, Text][]>(
    [['Authorization', 'Basic YTpi']],
    [['Authorization', 'Bearer']],
    [['Authorization', 'bearer   ']],
    [
      ['Authorization', 'Bearer a.b.c'],
      ['Authorization', 'Bearer d.e.f'],
    ],
  ),
);

const mcpCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    server,
    revision: fc.constantFrom(...REVISIONS),
    method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...MCP_METHODS) }, nasty),
    toolName: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('echo', 'whoami', 'write_note', 'read_my_notes') },
      nasty,
    ),
    id: fc.oneof({ weight: 4, arbitrary: fc.nat() }, nasty, fc.constant(null), fc.constant(undefined), json),
    messageChanges: mutations(nasty, json, 2),
    shape: fc.constantFrom('message', 'message', 'message', 'message', 'message', 'batch', 'other'),
    other: strangeBody,
    httpMethod: fc.oneof(
      { weight: 8, arbitrary: fc.constant('POST') },
      fc.constantFrom('GET', 'DELETE', 'OPTIONS', 'PUT', 'HEAD', 'PATCH'),
    ),
    authorization,
    version: mostly('usual', fc.oneof(fc.constantFrom(...REVISIONS, '2025-03-26', ''), nasty), 6),
    mcpMethod: mostly('usual', nasty, 6),
    session: mostly<Text | undefined>(
      undefined,
      fc.oneof(fc.constant<Text>({ fixture: 'sessionId' }), nasty),
      3,
    ),
    origin: mostly<Text | undefined>(
      undefined,
      fc.oneof(fc.constant<Text>({ fixture: 'origin' }), fc.constantFrom('https://evil.example', 'null')),
      6,
    ),
    accept: fc.oneof(
      { weight: 5, arbitrary: fc.constant('application/json, text/event-stream') },
      fc.constantFrom('application/json', 'text/event-stream', '*/*', ''),
    ),
    contentType: contentType('application/json'),
    extra: extraHeaders,
    host: mostly<string | undefined>(
      undefined,
      fc.oneof(fc.constantFrom('[', 'a b', '', 'x:y:z', '%'), nasty),
      8,
    ),
    absolute: mostly(false, fc.constant(true), 8),
  })
  .map((c): FuzzCase => {
    const message = mutate(
      mcpMessage(c.revision, c.method, c.toolName, c.id as Json | undefined),
      c.messageChanges,
    );
    let body: Body;
    if (c.shape === 'message') body = { kind: 'json', value: { entries: message } };
    else if (c.shape === 'batch')
      body = { kind: 'json', value: [{ entries: message }, { entries: message }] };
    else body = c.other;
    const headers: [string, Text][] = [
      ['Content-Type', c.contentType],
      ['Accept', c.accept],
    ];
    const version = c.version === 'usual' ? c.revision : headerSafe(c.version);
    if (c.revision !== '2025-06-18' || c.method !== 'initialize')
      headers.push(['MCP-Protocol-Version', version]);
    if (c.revision === '2026-07-28') {
      headers.push(['Mcp-Method', c.mcpMethod === 'usual' ? headerSafe(c.method) : headerSafe(c.mcpMethod)]);
      if (c.method === 'tools/call') headers.push(['Mcp-Name', headerSafe(c.toolName)]);
    }
    if (c.session !== undefined)
      headers.push(['Mcp-Session-Id', typeof c.session === 'string' ? headerSafe(c.session) : c.session]);
    if (c.origin !== undefined) headers.push(['Origin', c.origin]);
    headers.push(...c.authorization, ...c.extra);
    const hasBody = c.httpMethod !== 'GET' && c.httpMethod !== 'HEAD';
    return {
      server: c.server,
      kind: 'mcp',
      requests: [
        {
          method: c.httpMethod,
          path: '/mcp',
          headers,
          ...(hasBody ? { body } : {}),
          framing: 'length',
          ...(c.host === undefined ? {} : { host: c.host }),
          absolute: c.absolute,
        },
      ],
    };
  });

const authorizeValue: fc.Arbitrary<Text> = fc.oneof(
  nasty,
  urlValue,
  fc
    .constantFrom<FixtureName>('publicClient', 'confidentialClient', 'redirectUri', 'resource', 'challenge')
    .map(fixture),
  fc.constantFrom(
    'code',
    'token',
    'S256',
    'plain',
    'mcp:tools',
    'mcp:tools mcp:write',
    'offline_access',
    'consent',
  ),
);
const authorizeName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('response_type', 'client_id', 'redirect_uri', 'scope', 'state') },
  fc.constantFrom(
    'code_challenge',
    'code_challenge_method',
    'resource',
    'login_hint',
    'prompt',
    'request_uri',
  ),
  nasty,
);

const authorizeCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    server,
    changes: mutations(authorizeName, authorizeValue),
    state: mostly('xyz', nasty, 2),
    prompt: fc.boolean(),
    method: fc.oneof(
      { weight: 9, arbitrary: fc.constant('GET') },
      fc.constantFrom('POST', 'HEAD', 'OPTIONS'),
    ),
    extra: extraHeaders,
  })
  .map((c): FuzzCase => {
    const base: [string, Text][] = [
      ['response_type', 'code'],
      ['client_id', fixture('publicClient')],
      ['redirect_uri', fixture('redirectUri')],
      ['code_challenge', fixture('challenge')],
      ['code_challenge_method', 'S256'],
      ['resource', fixture('resource')],
      ['scope', 'mcp:tools'],
      ['state', c.state],
    ];
    if (c.prompt) base.push(['prompt', 'consent']);
    return {
      server: c.server,
      kind: 'authorize',
      requests: [
        {
          method: c.method,
          path: '/authorize',
          query: mutate(base, c.changes),
          headers: c.extra,
          framing: 'none',
        },
      ],
    };
  });

const formValue: fc.Arbitrary<Text> = fc.oneof(
  nasty,
  urlValue,
  fc
    .constantFrom<FixtureName>(
      'publicClient',
      'confidentialClient',
      'code',
      'verifier',
      'refreshToken',
      'token',
      'redirectUri',
      'resource',
    )
    .map(fixture),
  fc.constantFrom('authorization_code', 'refresh_token', 'client_credentials', 'password', 'mcp:tools'),
);
const tokenName = fc.oneof(
  fc.constantFrom('grant_type', 'code', 'code_verifier', 'client_id', 'client_secret', 'redirect_uri'),
  fc.constantFrom('refresh_token', 'scope', 'resource', 'token', 'token_type_hint'),
  nasty,
);

/** POST of a form (with its usual content type, usually), to `path`. */
function formCase(
  kind: string,
  path: string,
  bases: fc.Arbitrary<{ fields: [string, Text][]; headers: [string, Text][] }>,
  names: fc.Arbitrary<string>,
  servers: fc.Arbitrary<'auto' | 'consent'> = server,
): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      server: servers,
      base: bases,
      changes: mutations(names, formValue),
      contentType: contentType('application/x-www-form-urlencoded'),
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant('POST') },
        fc.constantFrom('GET', 'PUT', 'OPTIONS'),
      ),
      extra: extraHeaders,
      other: mostly<Body | null>(null, strangeBody, 8),
    })
    .map((c): FuzzCase => ({
      server: c.server,
      kind,
      requests: [
        {
          method: c.method,
          path,
          headers: [['Content-Type', c.contentType], ...c.base.headers, ...c.extra],
          body: c.other ?? { kind: 'form', fields: mutate(c.base.fields, c.changes) },
          framing: 'length',
        },
      ],
    }));
}

const tokenCase = formCase(
  'token',
  '/token',
  fc.constantFrom<{ fields: [string, Text][]; headers: [string, Text][] }>(
    {
      fields: [
        ['grant_type', 'authorization_code'],
        ['code', fixture('code')],
        ['code_verifier', fixture('verifier')],
        ['client_id', fixture('publicClient')],
        ['redirect_uri', fixture('redirectUri')],
        ['resource', fixture('resource')],
      ],
      headers: [],
    },
    {
      fields: [
        ['grant_type', 'refresh_token'],
        ['refresh_token', fixture('refreshToken')],
        ['client_id', fixture('publicClient')],
        ['scope', 'mcp:tools'],
      ],
      headers: [],
    },
    {
      fields: [
        ['grant_type', 'authorization_code'],
        ['code', 'not-a-code'],
        ['code_verifier', 'A'.repeat(43)],
      ],
      headers: [['Authorization', fixture('basicAuth')]],
    },
  ),
  tokenName,
);

const revokeCase = formCase(
  'revoke',
  '/revoke',
  fc.constantFrom<{ fields: [string, Text][]; headers: [string, Text][] }>(
    {
      fields: [
        ['token', fixture('refreshToken')],
        ['token_type_hint', 'refresh_token'],
        ['client_id', fixture('publicClient')],
      ],
      headers: [],
    },
    {
      fields: [
        ['token', fixture('token')],
        ['client_id', fixture('publicClient')],
      ],
      headers: [],
    },
    { fields: [['token', 'opaque']], headers: [['Authorization', fixture('basicAuth')]] },
  ),
  tokenName,
);

const consentCase = formCase(
  'consent',
  '/consent',
  fc.constantFrom<{ fields: [string, Text][]; headers: [string, Text][] }>(
    ...(['approve', 'deny'] as const).map((action) => ({
      fields: [
        ['request_id', fixture('requestId')],
        ['csrf', fixture('csrf')],
        ['username', 'alice'],
        ['password', 'alice'],
        ['action', action],
      ] as [string, Text][],
      headers: [],
    })),
  ),
  fc.oneof(fc.constantFrom('request_id', 'csrf', 'username', 'password', 'action'), nasty),
  fc.constant('consent'),
);

const metadataName = fc.oneof(
  fc.constantFrom(
    'redirect_uris',
    'token_endpoint_auth_method',
    'grant_types',
    'response_types',
    'application_type',
    'client_name',
    'scope',
    'contacts',
    'client_secret',
    'jwks',
    'software_statement',
  ),
  fc.constantFrom(...PROTOTYPE_NAMES),
  nasty,
);
const metadataValue: fc.Arbitrary<Json> = fc.oneof(
  json,
  urlValue.map((u) => [u]),
  fc.constantFrom<Json>(
    'none',
    'client_secret_basic',
    'native',
    'web',
    ['authorization_code'],
    ['code', 'token'],
  ),
  fc.integer({ min: 1000, max: 70_000 }).map((n) => 'n'.repeat(n)),
);

const registerCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    server,
    changes: mutations(metadataName, metadataValue),
    contentType: contentType('application/json'),
    method: fc.oneof({ weight: 9, arbitrary: fc.constant('POST') }, fc.constantFrom('GET', 'PUT', 'DELETE')),
    extra: extraHeaders,
    confidential: fc.boolean(),
    other: mostly<Body | null>(null, strangeBody, 8),
  })
  .map((c): FuzzCase => {
    const base: [string, Json][] = [
      ['redirect_uris', ['http://127.0.0.1/cb']],
      ['token_endpoint_auth_method', c.confidential ? 'client_secret_basic' : 'none'],
      ['grant_types', ['authorization_code', 'refresh_token']],
      ['client_name', 'fuzz'],
    ];
    return {
      server: c.server,
      kind: 'register',
      requests: [
        {
          method: c.method,
          path: '/register',
          headers: [['Content-Type', c.contentType], ...c.extra],
          body: c.other ?? { kind: 'json', value: { entries: mutate(base, c.changes) } },
          framing: 'length',
        },
      ],
    };
  });

const KNOWN_PATHS = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-protected-resource',
  '/jwks',
  '/mcp',
  '/authorize',
  '/token',
  '/register',
  '/revoke',
  '/consent',
  '/',
];
const pathCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    server,
    path: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...KNOWN_PATHS) },
      fc
        .tuple(
          fc.constantFrom(...KNOWN_PATHS),
          fc.constantFrom('/', '//', '/..', '%2f..', '/%00', '?', '#x', '/x'),
        )
        .map(([p, s]) => p + s),
      fc.webPath(),
      nasty.map((n) => `/${encodeURIComponent(n)}`),
      fc.constantFrom('*', 'http://127.0.0.1/mcp', '//evil.example/x', '/%', '/%zz', `/${'a'.repeat(8000)}`),
    ),
    method: fc.constantFrom('GET', 'GET', 'HEAD', 'OPTIONS', 'POST', 'DELETE', 'TRACE', 'PROPFIND'),
    extra: extraHeaders,
    preflight: fc.boolean(),
  })
  .map((c): FuzzCase => {
    const headers: [string, Text][] = [...c.extra];
    if (c.method === 'OPTIONS' && c.preflight) {
      headers.push(['Origin', 'https://app.example'], ['Access-Control-Request-Method', 'POST']);
    }
    return {
      server: c.server,
      kind: 'path',
      requests: [{ method: c.method, path: c.path.replace(/[\s]/g, ''), headers, framing: 'none' }],
    };
  });

/** Any of the endpoint cases: each is one well-formed HTTP request. */
const endpointCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    inner: fc.oneof(
      { weight: 5, arbitrary: mcpCase },
      { weight: 2, arbitrary: authorizeCase },
      { weight: 2, arbitrary: tokenCase },
      { weight: 2, arbitrary: registerCase },
      { weight: 1, arbitrary: revokeCase },
      { weight: 1, arbitrary: consentCase },
      { weight: 2, arbitrary: pathCase },
    ),
    // Now and then another Host, or the absolute form of the request target, on any endpoint.
    host: mostly<string | undefined>(
      undefined,
      fc.oneof(fc.constantFrom('[', 'a b', '', 'x:y:z', '%'), nasty),
      12,
    ),
    absolute: mostly(false, fc.constant(true), 12),
  })
  .map(({ inner, host, absolute }): FuzzCase => {
    const [first, ...rest] = inner.requests;
    if (!first || (host === undefined && !absolute)) return inner;
    return {
      ...inner,
      requests: [
        { ...first, ...(host === undefined ? {} : { host }), absolute: absolute || first.absolute },
        ...rest,
      ],
    };
  });

// ---------------------------------------------------------------------------------------------
// Raw and oversize cases

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => [...a]);

const garbageCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    server,
    tail: fc.oneof(
      bytes(1024),
      fc
        .tuple(
          fc.string({ unit: 'binary-ascii', maxLength: 200 }),
          fc.array(fc.string({ unit: 'binary-ascii', maxLength: 80 }), { maxLength: 8 }),
        )
        .map(([line, heads]) => [...Buffer.from(`${line}\r\n${heads.join('\r\n')}\r\n\r\n`, 'latin1')]),
    ),
  })
  .map((c): FuzzCase => ({ server: c.server, kind: 'garbage', requests: [], tail: c.tail }));

const damagedCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    inner: endpointCase,
    damage: fc.array(
      fc.record({
        op: fc.constantFrom<Damage['op']>('flip', 'insert', 'delete', 'truncate'),
        at: fc.nat({ max: 999 }),
        bytes: bytes(8),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map((c): FuzzCase => ({ ...c.inner, kind: `damaged-${c.inner.kind}`, damage: c.damage }));

/** Headers or bodies past the server's bounds (32 KiB of headers, 64 KiB of body). */
const oversizeCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    inner: fc.oneof(mcpCase, tokenCase, registerCase, revokeCase, consentCase),
    what: fc.constantFrom('header', 'headers', 'body', 'chunked', 'overstated'),
    size: fc.integer({ min: 20_000, max: 200_000 }),
  })
  .map((c): FuzzCase => {
    const request = { ...c.inner.requests[0]! };
    if (c.what === 'header') request.headers = [...request.headers, ['X-Large', 'v'.repeat(c.size / 4)]];
    else if (c.what === 'headers') {
      const many = Array.from({ length: c.size / 50 }, (_, i): [string, Text] => [`X-H${i}`, 'v']);
      request.headers = [...request.headers, ...many];
    } else {
      request.method = 'POST';
      request.body = { kind: 'filler', bytes: c.size };
      request.framing = c.what === 'chunked' ? 'chunked' : c.what === 'overstated' ? 'overstated' : 'length';
    }
    return { ...c.inner, kind: `oversize-${c.what}`, requests: [request] };
  });

/** Two requests on one keep-alive connection, the first maybe asking to switch protocols. */
const pipelineCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    first: endpointCase,
    second: fc.oneof(
      endpointCase.map((c) => ({ requests: c.requests, tail: undefined as number[] | undefined })),
      fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((line) => ({
        requests: [] as RequestSpec[],
        tail: [...Buffer.from(`${line} \x01\r\n\r\n`, 'latin1')],
      })),
    ),
    upgrade: fc.constantFrom(undefined, 'websocket', 'h2c', 'TLS/1.0', 'x'),
  })
  .map((c): FuzzCase => {
    const first = { ...c.first.requests[0]! };
    if (c.upgrade) first.headers = [...first.headers, ['Connection', 'Upgrade'], ['Upgrade', c.upgrade]];
    else first.headers = [...first.headers, ['Connection', 'keep-alive']];
    return {
      server: c.first.server,
      kind: c.upgrade ? 'upgrade-pipeline' : 'pipeline',
      requests: [first, ...c.second.requests],
      ...(c.second.tail ? { tail: c.second.tail } : {}),
    };
  });

/** Oddities of the request line: CONNECT, HTTP/1.0, absolute and asterisk forms, no Host. */
const requestLineCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    server,
    line: fc.constantFrom(
      'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n',
      'GET /jwks HTTP/1.0\r\n\r\n',
      'GET http://127.0.0.1/jwks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      'GET /jwks HTTP/1.1\r\nConnection: close\r\n\r\n',
      'GET /jwks HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n',
      'POST /token HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd',
      'POST /token HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\nConnection: close\r\n\r\n0\r\n\r\n',
      'GET /jwks HTTP/2.0\r\nHost: a\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      'GET /jwks HTTP/1.1\r\nHost: a\r\n Folded: x\r\nConnection: close\r\n\r\n',
    ),
  })
  .map((c): FuzzCase => ({
    server: c.server,
    kind: 'request-line',
    requests: [],
    tail: [...Buffer.from(c.line, 'latin1')],
  }));

/** Every kind of case, weighted towards the endpoints. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 12, arbitrary: endpointCase },
  { weight: 2, arbitrary: damagedCase },
  { weight: 1, arbitrary: garbageCase },
  { weight: 1, arbitrary: oversizeCase },
  { weight: 2, arbitrary: pipelineCase },
  { weight: 1, arbitrary: requestLineCase },
);

// ---------------------------------------------------------------------------------------------
// Rendering

export function serializeJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(serializeJson).join(',')}]`;
  return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${serializeJson(v)}`).join(',')}}`;
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64url');
}

const formEncode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');

/** The fixtures a case names, so the runner fetches only those. */
export function fixturesOf(c: FuzzCase): Set<FixtureName> {
  const out = new Set<FixtureName>();
  const see = (t: Text) => {
    if (typeof t !== 'string') out.add(t.fixture);
  };
  for (const r of c.requests) {
    for (const [, v] of r.headers) see(v);
    for (const [, v] of r.query ?? []) see(v);
    if (r.body?.kind === 'form') for (const [, v] of r.body.fields) see(v);
  }
  return out;
}

/** Is every request of the case complete as written (no damage, no lying length, no raw tail)? */
export function isComplete(c: FuzzCase): boolean {
  return !c.damage && c.tail === undefined && c.requests.every((r) => r.framing !== 'overstated');
}

/** The bytes of a case, with fixtures filled in by `resolve`. */
export function render(c: FuzzCase, host: string, resolve: (name: FixtureName) => string): Buffer {
  const text = (t: Text) => (typeof t === 'string' ? t : resolve(t.fixture));
  const parts = c.requests.map((r, i) => {
    const body = renderBody(r.body, text);
    const query = r.query?.map(([n, v]) => `${formEncode(n)}=${formEncode(text(v))}`).join('&');
    const target = query === undefined ? r.path : `${r.path}?${query}`;
    const requestTarget = r.absolute ? `http://${host}${target}` : target;
    const lines = [`${r.method} ${requestTarget} HTTP/1.1`, `Host: ${headerSafe(r.host ?? host)}`];
    // CR and LF never reach a header line, so a complete request stays one request.
    for (const [name, value] of r.headers) lines.push(`${headerSafe(name)}: ${headerSafe(text(value))}`);
    const last = i === c.requests.length - 1;
    if (last && !r.headers.some(([n]) => n.toLowerCase() === 'connection')) lines.push('Connection: close');
    let payload = body;
    if (body !== undefined) {
      if (r.framing === 'length') lines.push(`Content-Length: ${body.length}`);
      else if (r.framing === 'overstated') lines.push(`Content-Length: ${body.length + 1000}`);
      else if (r.framing === 'chunked') {
        lines.push('Transfer-Encoding: chunked');
        payload = Buffer.concat([
          Buffer.from(`${body.length.toString(16)}\r\n`),
          body,
          Buffer.from('\r\n0\r\n\r\n'),
        ]);
      }
    }
    // UTF-8: a non-ASCII character never becomes a CR or LF byte (latin1 would truncate it to one).
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
    return payload === undefined || r.framing === 'none' ? head : Buffer.concat([head, payload]);
  });
  if (c.tail) parts.push(Buffer.from(c.tail));
  let out: Buffer = Buffer.concat(parts);
  for (const d of c.damage ?? []) out = injure(out, d);
  return out;
}

function renderBody(body: Body | undefined, text: (t: Text) => string): Buffer | undefined {
  if (body === undefined) return undefined;
  if (body.kind === 'json') return Buffer.from(serializeJson(body.value));
  if (body.kind === 'form')
    return Buffer.from(body.fields.map(([n, v]) => `${formEncode(n)}=${formEncode(text(v))}`).join('&'));
  if (body.kind === 'text') return Buffer.from(body.text);
  return Buffer.alloc(body.bytes, 'x');
}

function injure(buf: Buffer, d: Damage): Buffer {
  const at = Math.floor((d.at / 1000) * buf.length);
  if (d.op === 'truncate') return buf.subarray(0, at);
  if (d.op === 'delete')
    return Buffer.concat([buf.subarray(0, at), buf.subarray(at + Math.max(1, d.bytes.length))]);
  if (d.op === 'insert') return Buffer.concat([buf.subarray(0, at), Buffer.from(d.bytes), buf.subarray(at)]);
  const out = Buffer.from(buf);
  if (at < out.length) out[at] = out[at]! ^ (d.bytes[0] ?? 0xff);
  return out;
}
