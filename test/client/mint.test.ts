// Forged tokens verify (or not) as intended, checked with jose against the trusted public key
// the way a resource server would (RFC 9068 §4, RFC 8725 §3.1-3.2).

import { createPublicKey } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, type JWK, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMinter, type Minter, tamperPayload } from '../../runner/mint.ts';
import { generateSigningKey, type SigningKey } from '../../reference-server/context.ts';

const ISSUER = 'http://127.0.0.1:4000';
const RESOURCE = 'http://127.0.0.1:4000/mcp';

describe('mint.ts', () => {
  let key: SigningKey;
  let minter: Minter;
  let publicKey: CryptoKey;
  /** Verifies as a strict RS would: only the trusted alg, typ at+jwt, issuer and audience. */
  const verify = (token: string) =>
    jwtVerify(token, publicKey, { algorithms: ['ES256'], typ: 'at+jwt', issuer: ISSUER, audience: RESOURCE });

  beforeAll(async () => {
    key = await generateSigningKey();
    publicKey = (await importJWK(key.publicJwk, 'ES256')) as CryptoKey;
    minter = await createMinter({
      privateJwk: key.privateJwk,
      issuer: ISSUER,
      resource: RESOURCE,
      clientId: 'client-1',
      subject: 'alice',
      scope: 'mcp:tools',
    });
  });

  it('mint: a valid RFC 9068 access token', async () => {
    const token = await minter.mint();
    const { payload, protectedHeader } = await verify(token);
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: key.kid });
    expect(payload).toMatchObject({
      iss: ISSUER,
      aud: RESOURCE,
      sub: 'alice',
      client_id: 'client-1',
      scope: 'mcp:tools',
    });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('mint: claims, omissions and header changes are applied', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    await expect(verify(await minter.mint({ claims: { exp: past } }))).rejects.toThrow(/exp/);
    await expect(verify(await minter.mint({ claims: { aud: 'http://other/mcp' } }))).rejects.toThrow(/aud/);
    await expect(verify(await minter.mint({ claims: { iss: 'http://evil' } }))).rejects.toThrow(/iss/);
    const noAud = await minter.mint({ omit: ['aud'] });
    expect('aud' in decodeJwt(noAud)).toBe(false);
    await expect(verify(noAud)).rejects.toThrow();
    await expect(verify(await minter.mint({ header: { typ: 'JWT' } }))).rejects.toThrow(/typ/);
    const nbf = await minter.mint({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } });
    await expect(verify(nbf)).rejects.toThrow(/nbf/);
  });

  it.each(['none', 'None', 'NONE', 'empty-signature'] as const)(
    'unsigned %s: well-formed, rejected',
    async (variant) => {
      const token = minter.unsigned({ variant });
      const [, , signature] = token.split('.');
      expect(signature).toBe('');
      expect(decodeProtectedHeader(token).alg).toBe(variant === 'empty-signature' ? 'ES256' : variant);
      expect(decodeJwt(token)).toMatchObject({ iss: ISSUER, aud: RESOURCE });
      await expect(verify(token)).rejects.toThrow();
    },
  );

  it.each(['same', 'different'] as const)('foreign key, %s kid: valid shape, rejected', async (kidMode) => {
    const token = await minter.withForeignKey({ kid: kidMode });
    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe('ES256');
    if (kidMode === 'same') expect(header.kid).toBe(key.kid);
    else expect(header.kid).not.toBe(key.kid);
    await expect(verify(token)).rejects.toThrow(/signature/);
  });

  it('HS256 with the public key: the HMAC really uses the JWK JSON / PEM bytes', async () => {
    const jwkToken = await minter.hs256WithPublicKey();
    expect(decodeProtectedHeader(jwkToken).alg).toBe('HS256');
    await expect(verify(jwkToken)).rejects.toThrow();
    // A confused verifier that takes the published JWK text as the HMAC secret accepts it.
    const jwkText = new TextEncoder().encode(JSON.stringify(key.publicJwk));
    await expect(jwtVerify(jwkToken, jwkText)).resolves.toBeDefined();

    const pemToken = await minter.hs256WithPublicKey({ secret: 'pem' });
    await expect(verify(pemToken)).rejects.toThrow();
    const pem = await exportSPKI(publicKey);
    expect(createPublicKey(pem).asymmetricKeyType).toBe('ec');
    await expect(jwtVerify(pemToken, new TextEncoder().encode(pem))).resolves.toBeDefined();
  });

  it('tamperPayload: still a JWT with valid JSON, one claim character changed, signature kept', async () => {
    const token = await minter.mint();
    const tampered = tamperPayload(token);
    const [h1, , s1] = token.split('.');
    const [h2, , s2] = tampered.split('.');
    expect([h2, s2]).toEqual([h1, s1]);
    expect(decodeJwt(tampered).sub).toBe('alicf');
    await expect(verify(tampered)).rejects.toThrow(/signature/);
  });

  it('tamperPayload on an opaque token changes exactly one character', () => {
    const opaque = 'abcdefghij0123456789';
    const tampered = tamperPayload(opaque);
    expect(tampered).toHaveLength(opaque.length);
    expect([...tampered].filter((c, i) => c !== opaque[i])).toHaveLength(1);
  });

  it('a key without alg gets its alg from the curve; a symmetric key is refused clearly', async () => {
    const { alg: _alg, ...noAlg } = key.privateJwk as JWK & { alg?: string };
    const m = await createMinter({ privateJwk: noAlg, issuer: ISSUER, resource: RESOURCE });
    await expect(verify(await m.mint())).resolves.toBeDefined();
    await expect(
      createMinter({ privateJwk: { kty: 'oct', k: 'AAAA' }, issuer: ISSUER, resource: RESOURCE }),
    ).rejects.toThrow(/give the JWK an "alg"/);
  });
});
