// Redaction: every kind of secret, in every place it can appear, never leaves in clear.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../runner/http.ts';
import { Redactor, redactedValue, SECRET_FIELDS, type SecretKind } from '../../runner/redact.ts';

const SECRETS: Record<SecretKind, string> = {
  access_token: 'at_9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  refresh_token: 'rt+/9f8e7d6c5b4a3928=1706f5e4d3c2b1a0',
  id_token: 'idt_0123456789abcdefghijklmnopqrstuv',
  code: 'code_Zx9Yw8Vu7Ts6Rq5Po4',
  client_secret: 'cs_super-secret-value-42',
  code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  cookie: 'sess_abcdef0123456789',
  password: 'hunter2hunter2',
  token: 'tok_generic_0123456789',
};

/** A place a secret can be put into an exchange; each returns the exchange as recorded. */
const PLACES: Record<string, (secret: string) => Exchange> = {
  'request URL query': (s) =>
    exchange({ url: `http://127.0.0.1:1/cb?code=${encodeURIComponent(s)}&state=abc` }),
  'request URL path': (s) => exchange({ url: `http://127.0.0.1:1/x/${encodeURIComponent(s)}` }),
  'Authorization header': (s) => exchange({ reqHeaders: [['authorization', `Bearer ${s}`]] }),
  'request form body': (s) =>
    exchange({ reqBody: new URLSearchParams({ grant_type: 'x', refresh_token: s }).toString() }),
  'request JSON body': (s) => exchange({ reqBody: JSON.stringify({ jsonrpc: '2.0', params: { arg: s } }) }),
  'Location header': (s) =>
    exchange({ resHeaders: [['location', `http://127.0.0.1:1/cb?code=${encodeURIComponent(s)}`]] }),
  'Set-Cookie header': (s) => exchange({ resHeaders: [['set-cookie', `sid=${s}; Path=/; HttpOnly`]] }),
  'Cookie header': (s) => exchange({ reqHeaders: [['cookie', `a=1; sid=${s}`]] }),
  'response JSON body': (s) =>
    exchange({ resBody: JSON.stringify({ access_token: s, token_type: 'Bearer' }) }),
  'response HTML body': (s) => exchange({ resBody: `<input type="hidden" name="x" value="${s}">` }),
  'error message': (s) => exchange({ error: `server said ${s}` }),
  label: (s) => exchange({ label: `probe with ${s}` }),
};

function exchange(parts: {
  url?: string;
  reqHeaders?: [string, string][];
  reqBody?: string;
  resHeaders?: [string, string][];
  resBody?: string;
  error?: string;
  label?: string;
}): Exchange {
  return {
    id: 'x1',
    ...(parts.label ? { label: parts.label } : {}),
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1,
    request: {
      method: 'POST',
      url: parts.url ?? 'http://127.0.0.1:1/token',
      headers: parts.reqHeaders ?? [],
      ...(parts.reqBody !== undefined ? { body: parts.reqBody } : {}),
    },
    response: {
      status: 200,
      headers: parts.resHeaders ?? [],
      body: parts.resBody ?? '',
      bytes: 0,
      truncated: false,
    },
    ...(parts.error ? { error: parts.error } : {}),
  };
}

describe('redactedValue', () => {
  it('keeps a short prefix, the length and a SHA-256 fingerprint', () => {
    const secret = 'abcdefghijklmnop';
    const hex = createHash('sha256').update(secret).digest('hex').slice(0, 12);
    expect(redactedValue(secret)).toBe(`[redacted abcd… len=16 sha256=${hex}]`);
  });

  it('shows no prefix for passwords and cookies, and a shorter one for short secrets', () => {
    expect(redactedValue('hunter2hunter2', 'password')).toMatch(/^\[redacted … len=14 /);
    expect(redactedValue('abcdefgh')).toMatch(/^\[redacted ab… len=8 /);
  });
});

describe('registered secrets are scrubbed everywhere', () => {
  for (const [kind, secret] of Object.entries(SECRETS) as [SecretKind, string][]) {
    for (const [place, build] of Object.entries(PLACES)) {
      it(`${kind} in ${place}`, () => {
        const redactor = new Redactor();
        redactor.register(secret, kind);
        const out = JSON.stringify(redactor.exchange(build(secret)));
        expect(out).not.toContain(secret);
        expect(out).not.toContain(encodeURIComponent(secret));
        expect(out).not.toContain(new URLSearchParams({ x: secret }).toString().slice(2));
        expect(out).toContain('[redacted');
      });
    }
    it(`${kind} in messages and structured data`, () => {
      const redactor = new Redactor();
      redactor.register(secret, kind);
      expect(redactor.text(`token was ${secret}.`)).not.toContain(secret);
      const data = redactor.value({ table: [{ value: secret }], nested: { deep: [`x ${secret} y`] } });
      expect(JSON.stringify(data)).not.toContain(secret);
    });
  }
});

describe('secrets the run never registered are caught by pattern', () => {
  const r = new Redactor();
  const unseen = 'UNSEEN-0123456789-secret';

  it('always redacts Authorization and Proxy-Authorization, keeping the scheme', () => {
    expect(r.header('Authorization', `bearer ${unseen}`)).toMatch(
      /^bearer \[redacted UNSE… len=24 sha256=[0-9a-f]{12}\]$/,
    );
    expect(r.header('Proxy-Authorization', `Basic ${unseen}`)).toMatch(/^Basic \[redacted … len=24 /);
    expect(r.header('authorization', unseen)).not.toContain(unseen);
  });

  it('always redacts cookie values, keeping names and attributes', () => {
    expect(r.header('Cookie', `a=${unseen}; b=${unseen}`)).toMatch(
      /^a=\[redacted … len=24 sha256=\w+\]; b=\[redacted /,
    );
    expect(r.header('Set-Cookie', `sid=${unseen}; Path=/; HttpOnly`)).toMatch(
      /^sid=\[redacted … len=24 sha256=\w+\]; Path=\/; HttpOnly$/,
    );
  });

  it.each(SECRET_FIELDS)('redacts the JSON field %s', (field) => {
    const out = r.text(JSON.stringify({ [field]: unseen, other: 'visible' }));
    expect(out).not.toContain(unseen);
    expect(out).toContain('"other":"visible"');
  });

  it.each(SECRET_FIELDS)('redacts the form/query field %s', (field) => {
    const form = r.text(`grant_type=x&${field}=${encodeURIComponent(unseen)}&state=visible`);
    expect(form).not.toContain(unseen);
    expect(form).toContain('state=visible');
    expect(r.text(`http://127.0.0.1/cb?${field}=${unseen}`)).not.toContain(unseen);
    expect(r.text(`http://127.0.0.1/cb#${field}=${unseen}`)).not.toContain(unseen);
  });

  it.each(SECRET_FIELDS)('redacts the field %s in structured data whatever its value', (field) => {
    expect(JSON.stringify(r.value({ [field]: unseen }))).not.toContain(unseen);
  });

  it('redacts anything shaped like a JWT, including unsigned ones', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';
    const none = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.';
    const out = r.text(`a ${jwt} b ${none} c`);
    expect(out).not.toContain('eyJzdWIiOiJhbGljZSJ9');
    expect(out).toMatch(/^a \[redacted eyJh… len=\d+ sha256=\w+\] b \[redacted /);
  });

  it('leaves ordinary evidence alone', () => {
    const text =
      'HTTP 401: Bearer resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"';
    expect(r.text(text)).toBe(text);
    expect(r.text('response_type=code&code_challenge=abc&grant_type=authorization_code')).toBe(
      'response_type=code&code_challenge=abc&grant_type=authorization_code',
    );
    expect(r.text('{"jsonrpc":"2.0","error":{"code":-32601,"message":"x"}}')).toBe(
      '{"jsonrpc":"2.0","error":{"code":-32601,"message":"x"}}',
    );
  });

  it('does not redact a value twice', () => {
    const redactor = new Redactor();
    redactor.register(unseen, 'code');
    const once = redactor.text(`?code=${unseen}`);
    expect(redactor.text(once)).toBe(once);
    expect(once.match(/\[redacted/g)).toHaveLength(1);
  });

  it('does not register values too short to be secrets', () => {
    const redactor = new Redactor();
    redactor.register('a');
    expect(redactor.text('a banana')).toBe('a banana');
  });
});

describe('secret names are judged by meaning, not spelling', () => {
  const r = new Redactor();
  const unseen = 'UNSEEN-0123456789-secret';
  const red = (value: string, kind: SecretKind = 'token') => redactedValue(value, kind);

  it.each([
    'Token',
    'TOKEN',
    'CSRF_token',
    'x-csrf-token',
    'csrfToken',
    'requestState',
    'SecretAccessKey',
    'AccessKeyId',
    'api_key',
    'client-secret',
    'Password',
  ])('redacts the JSON field %s and keeps the rest of the document as it was', (field) => {
    const out = r.text(JSON.stringify({ [field]: unseen, other: 'visible' }));
    const kind: SecretKind = /passw/i.test(field) ? 'password' : 'token';
    expect(out).toBe(JSON.stringify({ [field]: red(unseen, kind), other: 'visible' }));
  });

  it.each([
    'token_endpoint',
    'token_type',
    'token_endpoint_auth_methods_supported',
    'csrf_header_name',
    'revocation_endpoint',
    'code_challenge_method',
  ])('keeps the evidence field %s', (field) => {
    const text = JSON.stringify({ [field]: 'https://as.example/token' });
    expect(r.text(text)).toBe(text);
    expect(r.text(`?${field}=visible`)).toBe(`?${field}=visible`);
  });

  it('redacts form and query fields case-insensitively', () => {
    expect(r.text(`a=1&Token=${unseen}&CSRF_token=${unseen}&b=2`)).toBe(
      `a=1&Token=${red(unseen)}&CSRF_token=${red(unseen)}&b=2`,
    );
  });

  it('redacts headers whose name means a secret', () => {
    expect(r.header('X-CSRF-Token', unseen)).toBe(red(unseen));
    expect(r.header('x-api-key', unseen)).toBe(red(unseen));
    expect(r.header('x-amz-security-token', unseen)).toBe(red(unseen));
    expect(r.header('content-type', 'application/json')).toBe('application/json');
  });

  it('redacts the values of hidden inputs and of secret-named inputs and meta tags in HTML', () => {
    const html = [
      `<input type="hidden" name="request_id" value="${unseen}">`,
      `<INPUT TYPE=hidden NAME=whatever VALUE='${unseen}'>`,
      `<input name="csrf" value="${unseen}" type="text">`,
      `<meta name="csrf-token" content="${unseen}">`,
      '<input type="text" name="username" value="alice">',
      '<input type="hidden" name="empty" value="">',
    ].join('\n');
    const out = r.text(html);
    expect(out).not.toContain(unseen);
    expect(out.match(/\[redacted/g)).toHaveLength(4);
    expect(out).toContain(`<input type="hidden" name="request_id" value="${red(unseen)}">`);
    expect(out).toContain(`VALUE='${red(unseen)}'`);
    expect(out).toContain('<input type="text" name="username" value="alice">');
    expect(out).toContain('value=""');
  });

  it('redacts a cloud credentials document the target points the runner at', () => {
    const creds = {
      Code: 'Success',
      Type: 'AWS-HMAC',
      AccessKeyId: 'ASIAEXAMPLEEXAMPLE01',
      SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      Token: 'IQoJb3JpZ2luX2VjEXAMPLETOKENVALUE0123456789',
      Expiration: '2026-01-01T00:00:00Z',
    };
    const out = r.text(JSON.stringify(creds, null, 2));
    for (const secret of [creds.AccessKeyId, creds.SecretAccessKey, creds.Token])
      expect(out).not.toContain(secret);
    expect(out).toContain('"Type": "AWS-HMAC"');
    expect(out).toContain('"Expiration": "2026-01-01T00:00:00Z"');
  });
});
