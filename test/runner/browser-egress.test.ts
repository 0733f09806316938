// The browser login driver is held to the egress policy: Chromium follows redirects itself, so
// its traffic goes through the harness's policy proxy (runner/login/egress-proxy.ts). A login
// page that redirects to a cloud metadata address or a private host gets a refusal, recorded as
// evidence, and no connection is made.

import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpRecorder } from '../../runner/http.ts';
import { DEFAULT_CHROMIUM_PATH } from '../../runner/login/browser.ts';
import { createLoginDriver, FormScriptSchema } from '../../runner/login/index.ts';
import { type StubServer, startStub } from '../client/helpers/stub-server.ts';

let stub: StubServer | undefined;
let http: HttpRecorder | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await http?.close();
  await stub?.close();
  http = undefined;
  stub = undefined;
});

describe.skipIf(!existsSync(DEFAULT_CHROMIUM_PATH))('browser login under the egress policy', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'cloud-metadata'],
    ['http://10.0.0.1/login', 'private'],
  ])(
    'a redirect to %s is refused by the proxy, recorded, and never connected',
    async (location, addressClass) => {
      stub = await startStub((_req, res) => void res.writeHead(302, { location }).end());
      http = new HttpRecorder({ allowedOrigins: [stub.origin] });
      const connected: string[] = [];
      const original = Socket.prototype.connect;
      vi.spyOn(Socket.prototype, 'connect').mockImplementation(function (this: Socket, ...args: unknown[]) {
        const first = args[0] as { host?: string } | unknown[];
        const options = Array.isArray(first) ? (first[0] as { host?: string }) : first;
        if (options && typeof options === 'object' && 'host' in options) connected.push(String(options.host));
        return (original as (...a: unknown[]) => Socket).apply(this, args);
      });
      const script = FormScriptSchema.parse({ steps: [{ match: '/nothing-matches', submit: 0 }] });
      const login = createLoginDriver({ driver: 'browser', script }).login({
        http,
        authorizationUrl: new URL(`${stub.origin}/authorize?x=1`),
        redirectUri: 'http://127.0.0.1:53125/callback',
        timeoutMs: 8_000,
      });
      await expect(login).rejects.toThrow();
      const refused = http.exchanges.filter((e) => e.refused);
      expect(refused.map((e) => e.refused?.addressClass)).toContain(addressClass);
      expect(refused[0]!.error).toMatch(/refused to contact/);
      expect(connected.filter((h) => !h.startsWith('127.'))).toEqual([]);
    },
    30_000,
  );
});
