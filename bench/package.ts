// What a user gets: `npx tsx bench/package.ts [runs]` packs the package (building dist/ when a
// source is newer), installs the tarball into an empty folder with optional dependencies left
// out, and prints the tarball's file count, the install's size and package count, and the time of
// `mcp-auth-conformance --version` (median and min of N runs; default 20) on this machine's Node,
// beside an empty `node -e 0` (what start-up costs anyway on this machine at this moment).
// Pass a folder with an installed package as the second argument to time that one instead (e.g.
// an older version, for a before/after).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 20);
const installed = process.argv[3];

function timeRuns(bin: string, args: string[]): { median: number; min: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(bin, args, { encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]! };
}

const work = mkdtempSync(join(tmpdir(), 'bench-package-'));
try {
  let app = installed;
  if (!app) {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    ) as { filename: string; entryCount: number; size: number; unpackedSize: number }[];
    const info = packed[0]!;
    console.log(
      `tarball: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} kB packed, ${(info.unpackedSize / 1024).toFixed(0)} kB unpacked`,
    );
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}');
    execFileSync(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--omit=optional',
        join(work, info.filename),
      ],
      { cwd: app, stdio: 'ignore' },
    );
  }
  const size = execFileSync('du', ['-sh', join(app, 'node_modules')], { encoding: 'utf8' }).split('\t')[0];
  const packages = readdirSync(join(app, 'node_modules')).flatMap((name) =>
    name.startsWith('@') ? readdirSync(join(app!, 'node_modules', name)) : name.startsWith('.') ? [] : [name],
  ).length;
  console.log(`install (--omit=optional): ${size}, ${packages} top-level packages`);
  const { median, min } = timeRuns(join(app, 'node_modules', '.bin', 'mcp-auth-conformance'), ['--version']);
  const bare = timeRuns(process.execPath, ['-e', '0']);
  console.log(
    `--version: median ${median.toFixed(0)} ms, min ${min.toFixed(0)} ms over ${runs} runs (an empty node -e 0: median ${bare.median.toFixed(0)} ms)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
