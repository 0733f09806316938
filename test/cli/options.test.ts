// The option table is the only description of an option: help text, parsing, the config file's
// schema and error messages all come from it, so they cannot disagree; run and serve share one
// entry (one name) for a setting they both have.

import { describe, expect, it } from 'vitest';
import {
  ConfigSchema,
  EMBEDDED_CODE_LIFETIME_WAIT_SECONDS,
  EMBEDDED_CODE_TTL_SECONDS,
  listHelp,
  loadRunConfig,
  loadServeConfig,
  OPTIONS,
  runHelp,
  serveHelp,
} from '../../cli/config.ts';
import { type Command, entriesFor, type OptionSpec, parseFlags } from '../../cli/options.ts';

const HELP: Record<Command, () => string> = { run: runHelp, list: listHelp, serve: serveHelp };

describe('the option table', () => {
  it('gives every option one flag, used by no other option (aliases included)', () => {
    const names = Object.values(OPTIONS as Record<string, OptionSpec>).flatMap((o) => [
      o.flag,
      ...(o.aliases ?? []),
    ]);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(['run', 'list', 'serve'] as const)(
    '%s --help shows every option of %s from the table, and no other',
    (command) => {
      const help = HELP[command]();
      const shown = [...help.matchAll(/^ {2}(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1]);
      expect(shown.sort()).toEqual(
        entriesFor(OPTIONS, command)
          .map(([, o]) => o.flag)
          .sort(),
      );
    },
  );

  it('help states the defaults the code uses (read from the schema)', () => {
    const help = runHelp().replace(/\s+/g, ' ');
    expect(help).toContain(
      `Against the embedded server: ${EMBEDDED_CODE_LIFETIME_WAIT_SECONDS} (its codes then live ${EMBEDDED_CODE_TTL_SECONDS} s)`,
    );
    const defaults = ConfigSchema.parse({});
    expect(help).toContain(`Default: ${defaults.timeout}.`);
    expect(help).toContain(`Default: ${defaults.failOn}.`);
    expect(help).toContain(`Default: ${defaults.out}.`);
    // list and serve apply no defaults of their own, so their help shows none.
    expect(listHelp()).not.toMatch(/Default:/);
  });

  it('every config file key is also a flag, and every run flag (but --help and --config) a config key', () => {
    const keys = Object.keys(ConfigSchema.shape).filter((k) => k !== '$schema');
    const runEntries = entriesFor(OPTIONS, 'run').filter(([, o]) => !('cliOnly' in o && o.cliOnly));
    expect(keys.sort()).toEqual(runEntries.map(([key]) => key).sort());
  });

  it('run and serve share the settings they both have: --fault, --variant and --public-methods', () => {
    const shared = Object.values(OPTIONS)
      .filter(
        (o) =>
          (o.commands as readonly Command[]).includes('run') &&
          (o.commands as readonly Command[]).includes('serve'),
      )
      .map((o) => o.flag);
    expect(shared).toEqual(['fault', 'variant', 'public-methods', 'help']);
    for (const flag of shared) {
      expect(runHelp()).toContain(`--${flag} `);
      expect(serveHelp()).toContain(`--${flag} `);
    }
    const run = loadRunConfig(
      ['--public-methods', 'tools/list', '--fault', 'rs-auth-disabled'],
      '/nonexistent-dir',
    );
    const serve = loadServeConfig(['--public-methods', 'tools/list', '--fault', 'rs-auth-disabled']);
    expect(run.config.publicMethods).toEqual(serve.options.publicMethods);
    expect(run.config.faults).toEqual(serve.options.faults);
  });

  it('accepts the old spellings and names them in errors as typed', () => {
    expect(
      loadRunConfig(['--expect-public', 'ping,tools/list'], '/nonexistent-dir').config.publicMethods,
    ).toEqual(['ping', 'tools/list']);
    expect(
      loadServeConfig(['--allowed-origins', 'https://a.example,https://b.example']).options.allowedOrigins,
    ).toEqual(['https://a.example', 'https://b.example']);
    expect(() => loadRunConfig(['--expect-public', 'nope'], '/nonexistent-dir')).toThrow(
      /--expect-public \(item 0\)/,
    );
    expect(() => loadRunConfig(['--public-methods', 'nope'], '/nonexistent-dir')).toThrow(
      /--public-methods \(item 0\)/,
    );
  });

  it('lists are repeatable and comma-separated alike; seconds take units', () => {
    const { values } = parseFlags(OPTIONS, 'run', [
      '--only',
      'RS,AS-PKCE',
      '--only',
      'AS-META',
      '--timeout',
      '500ms',
    ]);
    expect(values).toEqual({ only: ['RS', 'AS-PKCE', 'AS-META'], timeout: 0.5 });
  });

  it('serve leaves absent options absent, so the reference server keeps its own defaults', () => {
    expect(loadServeConfig([]).options).toEqual({});
    expect(loadServeConfig(['--port', '0', '--auto-approve']).options).toEqual({
      port: 0,
      autoApprove: true,
    });
  });
});
