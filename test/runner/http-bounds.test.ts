// The HTTP client's bounds (runner/http.ts): decoding with a size cap and a ratio limit, the
// header-block cap, and what is kept as evidence (cut bodies with length and hash, a body stored
// once, a run budget, cut header values).

import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRecorder } from '../../runner/http.ts';
import { type StubServer, startStub } from '../client/helpers/stub-server.ts';

let stub: StubServer | undefined;
let http: HttpRecorder | undefined;
afterEach(async () => {
  await http?.close();
  await stub?.close();
  http = undefined;
  stub = undefined;
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('decoding', () => {
  it('decodes gzip for the check and keeps the decoded text as evidence', async () => {
    const body = JSON.stringify({ issuer: 'x', padding: 'p'.repeat(2000) });
    stub = await startStub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(body));
    });
    http = new HttpRecorder({ allowedOrigins: [stub.origin] });
    const response = await http.request(`${stub.origin}/meta`);
    expect(response.json()).toMatchObject({ issuer: 'x' });
    expect(response.exchange.response).toMatchObject({ body, bytes: body.length, decoded: 'gzip' });
  });

  it('stops a compression bomb at the ratio limit, long before the body cap', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    stub = await startStub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    });
    http = new HttpRecorder({ allowedOrigins: [stub.origin], maxBodyBytes: 32 * 1024 * 1024 });
    const err = await http.request(`${stub.origin}/bomb`).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'too-large', message: expect.stringMatching(/compression bomb/) });
    expect(http.exchanges[0]!.response!.bytes).toBeLessThan(4 * 1024 * 1024);
  });

  it('caps the decoded size at the body cap', async () => {
    stub = await startStub((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gzipSync(randomBytes(300 * 1024).toString('base64')));
    });
    http = new HttpRecorder({ allowedOrigins: [stub.origin], maxBodyBytes: 100 * 1024 });
    const err = await http.request(`${stub.origin}/big`).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'too-large', message: expect.stringMatching(/after decoding gzip/) });
    expect(http.exchanges[0]!.response).toMatchObject({ bytes: 100 * 1024, truncated: true });
  });

  it('refuses an encoding it cannot decode, and broken gzip, as transport errors', async () => {
    stub = await startStub((req, res) => {
      res.writeHead(200, { 'content-encoding': req.path === '/zstd' ? 'zstd' : 'gzip' });
      res.end('this is not gzip at all');
    });
    http = new HttpRecorder({ allowedOrigins: [stub.origin] });
    await expect(http.request(`${stub.origin}/zstd`)).rejects.toMatchObject({ kind: 'network' });
    await expect(http.request(`${stub.origin}/broken`)).rejects.toMatchObject({
      kind: 'network',
      message: expect.stringMatching(/decoding gzip/),
    });
  });

  it('refuses a header block over the cap', async () => {
    stub = await startStub((_req, res) => {
      for (let i = 0; i < 40; i++) res.setHeader(`x-junk-${i}`, 'j'.repeat(1000));
      res.writeHead(200).end('{}');
    });
    http = new HttpRecorder({ allowedOrigins: [stub.origin] });
    await expect(http.request(`${stub.origin}/`)).rejects.toMatchObject({ kind: 'too-large' });
  });
});

describe('evidence', () => {
  it('keeps the beginning of a long body with its length and hash; the check reads all of it', async () => {
    const body = 'a'.repeat(200 * 1024);
    stub = await startStub((_req, res) => void res.writeHead(200).end(body));
    http = new HttpRecorder({ allowedOrigins: [stub.origin] });
    const response = await http.request(`${stub.origin}/long`);
    expect(response.text).toHaveLength(body.length);
    const kept = response.exchange.response!;
    expect(kept.body).toHaveLength(64 * 1024);
    expect(kept).toMatchObject({
      bytes: body.length,
      sha256: sha(body),
      bodyKept: expect.stringMatching(/first 65536 of 204800 bytes/),
    });
  });

  it('keeps less from hosts other than the target, and 1 KiB of a binary body', async () => {
    stub = await startStub((req, res) => {
      if (req.path === '/binary')
        res.writeHead(200).end(Buffer.concat([Buffer.from([0, 1, 2]), randomBytes(8000)]));
      else res.writeHead(200).end('b'.repeat(40 * 1024));
    });
    const other = await startStub((_req, res) => void res.writeHead(200).end('c'.repeat(40 * 1024)));
    try {
      http = new HttpRecorder({ allowedOrigins: [stub.origin, other.origin] });
      expect((await http.request(`${stub.origin}/text`)).exchange.response!.body).toHaveLength(40 * 1024);
      expect((await http.request(`${other.origin}/text`)).exchange.response!.body).toHaveLength(16 * 1024);
      const binary = (await http.request(`${stub.origin}/binary`)).exchange.response!;
      expect(binary.bodyKept).toMatch(/not text/);
      expect(Buffer.byteLength(binary.body)).toBeLessThan(3 * 1024);
    } finally {
      await other.close();
    }
  });

  it('stores a repeated body once: later exchanges name the first', async () => {
    const body = JSON.stringify({ junk: 'z'.repeat(5000) });
    stub = await startStub((_req, res) => void res.writeHead(200).end(body));
    http = new HttpRecorder({ allowedOrigins: [stub.origin] });
    const a = await http.request(`${stub.origin}/1`);
    const b = await http.request(`${stub.origin}/2`);
    expect(b.text).toBe(body);
    expect(a.exchange.response!.body).toBe(body);
    expect(b.exchange.response).toMatchObject({ body: '', sameBodyAs: a.exchange.id, sha256: sha(body) });
  });

  it('spends a run budget: once it is spent, each body keeps only its beginning', async () => {
    stub = await startStub(
      (_req, res) => void res.writeHead(200).end(randomBytes(30 * 1024).toString('hex')),
    );
    http = new HttpRecorder({ allowedOrigins: [stub.origin], evidence: { budgetBytes: 100 * 1024 } });
    const kept: number[] = [];
    for (let i = 0; i < 4; i++)
      kept.push((await http.request(`${stub.origin}/${i}`)).exchange.response!.body.length);
    expect(kept).toEqual([60 * 1024, 60 * 1024, 1024, 1024]);
    expect(http.exchanges[3]!.response!.bodyKept).toMatch(/budget is spent/);
  });

  it('cuts a long header value, with its length and hash', async () => {
    const value = `Bearer ${'x=",'.repeat(3000)}`;
    stub = await startStub((_req, res) => void res.writeHead(401, { 'www-authenticate': value }).end());
    http = new HttpRecorder({ allowedOrigins: [stub.origin] });
    const response = await http.request(`${stub.origin}/`);
    expect(response.headers.get('www-authenticate')).toBe(value);
    const recorded = response.exchange.response!.headers.find(([n]) => n === 'www-authenticate')![1];
    expect(recorded.length).toBeLessThan(4 * 1024 + 200);
    expect(recorded).toContain(`cut: ${value.length} characters, sha256=${sha(value)}`);
  });
});
