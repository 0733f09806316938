// Test vectors: requirements.md §4.1 (worked examples and invalid examples) plus the grammar
// corners of RFC 9110 §11 the parser must get right.

import { describe, expect, it } from 'vitest';
import { bearerChallenge, param, parseWwwAuthenticate } from '../../runner/www-authenticate.ts';

const PRM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

describe('parseWwwAuthenticate: the valid examples of requirements §4.1', () => {
  it('no token sent (M1125+ shape), folded over two lines', () => {
    const parse = parseWwwAuthenticate([`Bearer resource_metadata="${PRM}",`, '  scope="files:read"']);
    expect(parse.problems).toEqual([]);
    const bearer = bearerChallenge(parse)!;
    expect(param(bearer, 'resource_metadata')).toBe(PRM);
    expect(param(bearer, 'scope')).toBe('files:read');
  });

  it('bad/expired token', () => {
    const parse = parseWwwAuthenticate([
      `Bearer error="invalid_token", error_description="The access token expired", resource_metadata="${PRM}"`,
    ]);
    expect(parse.problems).toEqual([]);
    const bearer = bearerChallenge(parse)!;
    expect(param(bearer, 'error')).toBe('invalid_token');
    expect(param(bearer, 'error_description')).toBe('The access token expired');
  });

  it('step-up 403', () => {
    const parse = parseWwwAuthenticate([
      `Bearer error="insufficient_scope", scope="files:write", resource_metadata="${PRM}", error_description="File write permission required for this operation"`,
    ]);
    expect(parse.problems).toEqual([]);
    expect(bearerChallenge(parse)!.params.map((p) => p.name)).toEqual([
      'error',
      'scope',
      'resource_metadata',
      'error_description',
    ]);
  });

  it('two challenges in one field: DPoP then Bearer', () => {
    const root = 'https://mcp.example.com/.well-known/oauth-protected-resource';
    const parse = parseWwwAuthenticate([
      `DPoP algs="ES256", resource_metadata="${root}", Bearer realm="mcp", resource_metadata="${root}"`,
    ]);
    expect(parse.problems).toEqual([]);
    expect(parse.challenges.map((c) => c.scheme)).toEqual(['DPoP', 'Bearer']);
    expect(param(parse.challenges[0]!, 'algs')).toBe('ES256');
    const bearer = bearerChallenge(parse)!;
    expect(param(bearer, 'realm')).toBe('mcp');
    expect(param(bearer, 'resource_metadata')).toBe(root);
  });
});

describe('parseWwwAuthenticate: the invalid examples of requirements §4.1 each name their defect', () => {
  it('bare Bearer', () => {
    const parse = parseWwwAuthenticate(['Bearer']);
    expect(parse.challenges).toHaveLength(1);
    expect(parse.problems).toHaveLength(1);
    expect(parse.problems[0]).toMatch(/bare Bearer/);
  });

  it('unquoted URL', () => {
    const parse = parseWwwAuthenticate(['Bearer resource_metadata=https://h/.well-known/x']);
    expect(parse.problems).toHaveLength(1);
    expect(parse.problems[0]).toMatch(/resource_metadata.*must be a quoted-string/);
    // Still read, so a check can say what was sent.
    expect(param(bearerChallenge(parse)!, 'resource_metadata')).toBe('https://h/.well-known/x');
  });

  it('duplicate parameter', () => {
    const parse = parseWwwAuthenticate(['Bearer scope="a", scope="b"']);
    expect(parse.problems).toHaveLength(1);
    expect(parse.problems[0]).toMatch(/repeats parameter scope/);
  });

  it('realm not quoted', () => {
    const parse = parseWwwAuthenticate(['Bearer realm=mcp']);
    expect(parse.problems).toHaveLength(1);
    expect(parse.problems[0]).toMatch(/realm is not a quoted-string/);
  });

  it('unescaped quote in error_description', () => {
    const parse = parseWwwAuthenticate(['Bearer error="invalid_token", error_description="bad "quote""']);
    expect(parse.problems.length).toBeGreaterThanOrEqual(1);
    expect(parse.problems.join('\n')).toMatch(/after the value of error_description/);
  });
});

describe('parseWwwAuthenticate: grammar corners (RFC 9110 §11)', () => {
  it('commas inside quoted strings do not split', () => {
    const parse = parseWwwAuthenticate(['Bearer error_description="a, b, c", scope="x"']);
    expect(parse.problems).toEqual([]);
    expect(param(bearerChallenge(parse)!, 'error_description')).toBe('a, b, c');
    expect(parse.challenges).toHaveLength(1);
  });

  it('several field lines are one list, several challenges per line', () => {
    const parse = parseWwwAuthenticate(['Basic realm="x", Newauth realm="y"', 'Bearer scope="s"']);
    expect(parse.problems).toEqual([]);
    expect(parse.challenges.map((c) => c.scheme)).toEqual(['Basic', 'Newauth', 'Bearer']);
  });

  it('token68', () => {
    const parse = parseWwwAuthenticate(['Negotiate abc+/9==, Bearer scope="s"']);
    expect(parse.problems).toEqual([]);
    expect(parse.challenges[0]!.token68).toBe('abc+/9==');
    expect(param(parse.challenges[1]!, 'scope')).toBe('s');
  });

  it('a token68 on Bearer is reported', () => {
    const parse = parseWwwAuthenticate(['Bearer abcdef==']);
    expect(parse.problems.join()).toMatch(/token68/);
  });

  it('scheme and parameter names are case-insensitive', () => {
    const parse = parseWwwAuthenticate(['bEaReR Resource_Metadata="u", SCOPE="a b"']);
    expect(parse.problems).toEqual([]);
    const bearer = bearerChallenge(parse)!;
    expect(param(bearer, 'resource_metadata')).toBe('u');
    expect(param(bearer, 'scope')).toBe('a b');
  });

  it('duplicates are detected case-insensitively', () => {
    const parse = parseWwwAuthenticate(['Bearer scope="a", SCOPE="b"']);
    expect(parse.problems.join()).toMatch(/repeats parameter scope/);
  });

  it('a token value may be unquoted, with BWS around "="', () => {
    const parse = parseWwwAuthenticate(['Bearer error = invalid_token , scope="a"']);
    expect(parse.problems).toEqual([]);
    const bearer = bearerChallenge(parse)!;
    expect(bearer.params[0]).toEqual({ name: 'error', value: 'invalid_token', quoted: false });
  });

  it('quoted-pairs are unescaped, and a resulting quote in error_description is reported', () => {
    const parse = parseWwwAuthenticate(['Bearer error_description="say \\"hi\\""']);
    expect(param(bearerChallenge(parse)!, 'error_description')).toBe('say "hi"');
    expect(parse.problems.join()).toMatch(/error_description contains characters/);
  });

  it('a backslash in error is reported', () => {
    const parse = parseWwwAuthenticate(['Bearer error="bad\\\\thing"']);
    expect(parse.problems.join()).toMatch(/Bearer error contains characters/);
  });

  it('scope charset and separators', () => {
    expect(parseWwwAuthenticate(['Bearer scope="a  b"']).problems.join()).toMatch(/single spaces/);
    expect(parseWwwAuthenticate(['Bearer scope=" a"']).problems.join()).toMatch(/single spaces/);
    expect(parseWwwAuthenticate(['Bearer scope="a\\\\b"']).problems.join()).toMatch(/scope token/);
    expect(parseWwwAuthenticate(['Bearer scope="mcp:tools mcp:write"']).problems).toEqual([]);
  });

  it('empty list elements are ignored (RFC 9110 §5.6.1.2)', () => {
    const parse = parseWwwAuthenticate([', Bearer scope="a",, ']);
    expect(parse.problems).toEqual([]);
    expect(parse.challenges).toHaveLength(1);
  });

  it('an unterminated quoted string is reported, not a crash', () => {
    const parse = parseWwwAuthenticate(['Bearer scope="abc']);
    expect(parse.problems.join()).toMatch(/not terminated/);
  });

  it('garbage is reported, not a crash', () => {
    for (const garbage of ['=', '"""', '@@@', 'Bearer ="x"', '\u0000Bearer', 'Bearer,=,=', '']) {
      const parse = parseWwwAuthenticate([garbage]);
      expect(parse.problems.length).toBeGreaterThan(0);
    }
    expect(parseWwwAuthenticate([]).problems.join()).toMatch(/empty/);
  });

  it('a parameter with no value is reported', () => {
    expect(parseWwwAuthenticate(['Bearer scope="a", error=']).problems.join()).toMatch(/error has no value/);
  });

  it('non-Bearer schemes are not judged by the Bearer rules', () => {
    expect(parseWwwAuthenticate(['Basic']).problems).toEqual([]);
    expect(bearerChallenge(parseWwwAuthenticate(['Basic realm="x"']))).toBeUndefined();
  });
});
