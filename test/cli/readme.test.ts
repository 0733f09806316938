// README recipes are tests: every command in the README's "Using it" section runs here and must end
// as the comment above it says: "(exit N)" (or "until Ctrl-C": it starts, prints its URLs, and
// exits 0 on SIGINT). The reference server stands in for "your MCP server" on a free port instead
// of 3000; a command that states no outcome, or one this file does not know how to run, fails.
//
// `npx mcp-auth-conformance run|list` runs in process (the same main() the bin calls); `serve`
// runs as a child process of the checkout's bin, so Ctrl-C can be sent to it. `--login manual`
// needs a person: the test plays one in Chromium (test/helpers/person.ts), who opens the URL the
// run prints, signs in and approves every consent page the tab shows.

import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import {
  approveEverything,
  type Browser,
  CHROMIUM,
  haveChromium,
  launchChromium,
  START_URL,
} from '../helpers/person.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Recipe {
  /** The command as the README writes it (continuation lines joined). */
  text: string;
  args: string[];
  background: boolean;
  /** The exit code the README states, or 'until-ctrl-c'. */
  expected: number | 'until-ctrl-c' | undefined;
}

/** The "Using it" section's shell commands, each with the outcome its comment states. */
function recipes(): { commands: Recipe[]; files: Record<string, string> } {
  const section = README.slice(
    README.indexOf('## Using it'),
    README.indexOf('\n## ', README.indexOf('## Using it') + 5),
  );
  const commands: Recipe[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    let comment = '';
    const lines = block[1]!.replace(/\\\n\s*/g, '').split('\n');
    for (const line of lines) {
      if (line.startsWith('#')) {
        comment += ` ${line.slice(1).trim()}`;
        continue;
      }
      if (line.trim() === '') {
        comment = '';
        continue;
      }
      const text = line.trim();
      const background = text.endsWith('&');
      const exit = [...comment.matchAll(/\(exit (\d)\b/g)].at(-1)?.[1];
      commands.push({
        text,
        args: text.replace(/&$/, '').trim().split(/\s+/),
        background,
        expected: /until Ctrl-C/.test(comment)
          ? 'until-ctrl-c'
          : exit !== undefined
            ? Number(exit)
            : undefined,
      });
      comment = '';
    }
  }
  const files: Record<string, string> = {};
  for (const block of section.matchAll(/```yaml\n# ([\w.-]+)\n([\s\S]*?)```/g)) files[block[1]!] = block[2]!;
  return { commands, files };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'readme-'));
const children: ChildProcess[] = [];
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe("the README's Using it section", () => {
  const { commands, files } = recipes();

  it('has commands, and each states how it ends', () => {
    expect(commands.length).toBeGreaterThanOrEqual(8);
    expect(commands.filter((c) => c.expected === undefined).map((c) => c.text)).toEqual([]);
    expect(
      commands.filter((c) => c.args.slice(0, 2).join(' ') !== 'npx mcp-auth-conformance').map((c) => c.text),
    ).toEqual([]);
  });

  it('every command ends as the README says', async () => {
    const port = await freePort();
    // The working directory of a user: the files the recipes name.
    cpSync(join(ROOT, 'fixtures', 'login'), join(dir, 'fixtures', 'login'), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const outcomes: string[] = [];
    const background: ChildProcess[] = [];
    for (const recipe of commands) {
      const args = recipe.args
        .slice(2)
        .map((a) => a.replace(/^3000$/, String(port)).replace('127.0.0.1:3000', `127.0.0.1:${port}`));
      if (args[0] === 'serve') {
        const child = spawn(process.execPath, [join(ROOT, 'bin', 'mcp-auth-conformance.js'), ...args], {
          cwd: dir,
        });
        children.push(child);
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        let stdout = '';
        child.stdout!.on('data', (d) => (stdout += d));
        if (recipe.expected === 'until-ctrl-c') {
          await expect
            .poll(() => stdout, { timeout: 20_000 })
            .toMatch(/MCP endpoint \(resource\)\s+http:\/\/127\.0\.0\.1:\d+\/mcp/);
          if (recipe.background) {
            background.push(child);
            outcomes.push(`${recipe.text} → serving`);
            continue;
          }
          child.kill('SIGINT');
        }
        outcomes.push(`${recipe.text} → exit ${await exited}`);
        continue;
      }
      let out = '';
      let startUrl: ((url: string) => void) | undefined;
      const printed = new Promise<string>((resolve) => (startUrl = resolve));
      const run = main(args, {
        out: (t) => {
          out += t;
          // --login manual: the person opens the one URL it prints (test/helpers/person.ts).
          const url = START_URL.exec(out)?.[1];
          if (url) startUrl?.(url);
        },
        err: (t) => (out += t),
        isTTY: false,
        env: {},
        cwd: dir,
      });
      let acted = 0;
      if (recipe.args.includes('manual')) {
        if (!haveChromium) throw new Error(`the --login manual recipe needs Chromium at ${CHROMIUM}`);
        browser ??= await launchChromium();
        const page = await (await browser.newContext()).newPage();
        const url = await Promise.race([printed, run.then(() => undefined)]);
        if (url) acted = await approveEverything(page, url, run);
        await page.context().close();
        expect(acted, out).toBeGreaterThan(0);
      }
      const code = await run;
      outcomes.push(
        `${recipe.text} → exit ${code}${code === recipe.expected ? '' : `\n${out.slice(-1500)}`}`,
      );
    }
    for (const child of background) child.kill('SIGINT');
    const want = commands.map((c) =>
      c.background
        ? `${c.text} → serving`
        : `${c.text} → exit ${c.expected === 'until-ctrl-c' ? 0 : c.expected}`,
    );
    expect(outcomes).toEqual(want);
  }, 240_000);
});
