// The option-table machinery: one table of OptionSpec entries (cli/config.ts) is the only place an
// option is described. From it come the command-line parsing of every command, the help text,
// the config file's zod schema (and so schemas/config.schema.json), and the error messages, which
// name the option the way the user gave it: `--fail-on` on the command line, `"failOn" in FILE`
// in a config file. Adding an option is adding one entry.

import { z } from 'zod';

export type Command = 'run' | 'list' | 'serve';

/** How the text after a flag becomes the value the schema validates. */
export type FlagKind =
  /** `--strict`: no value. */
  | 'boolean'
  /** `--target URL`: one value; given twice, the last wins. */
  | 'string'
  /** `--only RS,AS-PKCE --only AS-META`: repeatable, and each value split at commas. */
  | 'list'
  /** `--timeout 10`, `2.5`, `10s`, `500ms`: seconds as a number. */
  | 'seconds'
  /** `--port 3000`: a number (the schema says which). */
  | 'number';

export interface OptionSpec<
  S extends z.ZodType = z.ZodType,
  C extends readonly Command[] = readonly Command[],
> {
  /** The flag without its dashes: `fail-on`. */
  flag: string;
  /** One-letter form (`h` for `-h`). */
  short?: string;
  /** Older spellings still accepted on the command line; help shows only `flag`. */
  aliases?: readonly string[];
  /** The commands that take it. An option two commands share is one entry, so one name. */
  commands: C;
  kind: FlagKind;
  /** Placeholder of the value in help text: URL, FILE, NAME. */
  value?: string;
  /** Validates and defaults the value, wherever it came from (flag, config file, API). */
  schema: S;
  /** What it does, in a sentence or two: the help text and the config schema's description. */
  help: string;
  /** Section of the help text. */
  group: string;
  /** Turns the flag's raw text (every occurrence, in order) into the schema's input. Default: by kind. */
  fromFlag?: (raw: readonly string[], flag: string) => unknown;
  /** Command line only (`--help`, `--config`, `--list-faults`): not a key of the config file or the API. */
  cliOnly?: boolean;
}

/** Bad usage or configuration: exit code 2, message shown as is. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An entry, typed so that the table keeps each schema's own type (for `Config`). */
export function option<const S extends z.ZodType, const C extends readonly Command[]>(
  spec: OptionSpec<S, C>,
): OptionSpec<S, C> {
  return spec;
}

export type OptionTable = Record<string, OptionSpec>;

/** Where a value came from, to name it in an error message as the user wrote it. */
export type Source = { kind: 'flag'; typed: string } | { kind: 'file'; file: string };

export interface ParsedFlags {
  /** Schema input per option key (only the options given). */
  values: Record<string, unknown>;
  /** How each given option was typed (`--fail-on`, `--allowed-origins`, `-h`). */
  typed: Record<string, string>;
}

/** The entries of one command, in table order. */
export function entriesFor(table: OptionTable, command: Command): [string, OptionSpec][] {
  return Object.entries(table).filter(([, spec]) => spec.commands.includes(command));
}

/**
 * Parses `argv` against the entries of `command`: `--flag value`, `--flag=value`, `-h`. No
 * positionals. Unknown flags, a missing value and a value given to a boolean are UsageErrors that
 * name the flag and point at the command's help.
 */
export function parseFlags(table: OptionTable, command: Command, argv: readonly string[]): ParsedFlags {
  const entries = entriesFor(table, command);
  const byName = new Map<string, [string, OptionSpec]>();
  for (const entry of entries) {
    const [, spec] = entry;
    byName.set(`--${spec.flag}`, entry);
    for (const alias of spec.aliases ?? []) byName.set(`--${alias}`, entry);
    if (spec.short) byName.set(`-${spec.short}`, entry);
  }
  const seeHelp = `See "mcp-auth-conformance ${command} --help".`;
  const raw = new Map<string, string[]>();
  const typed: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const found = byName.get(name);
    if (!found) {
      if (!arg.startsWith('-')) {
        throw new UsageError(`unexpected argument "${arg}": ${command} takes only options. ${seeHelp}`);
      }
      const near = nearest(
        name,
        [...byName.keys()].filter((n) => n.startsWith('--')),
      );
      throw new UsageError(
        `unknown option ${name} for ${command}${near ? ` (did you mean ${near}?)` : ''}. ${seeHelp}`,
      );
    }
    const [key, spec] = found;
    typed[key] = name;
    let value: string;
    if (spec.kind === 'boolean') {
      if (eq > 0) throw new UsageError(`${name} takes no value (got "${arg.slice(eq + 1)}"). ${seeHelp}`);
      value = 'true';
    } else if (eq > 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`${name} needs a value${spec.value ? ` (${spec.value})` : ''}. ${seeHelp}`);
      }
      value = next;
      i++;
    }
    raw.set(key, [...(raw.get(key) ?? []), value]);
  }
  const values: Record<string, unknown> = {};
  for (const [key, texts] of raw) {
    const spec = table[key]!;
    values[key] = spec.fromFlag ? spec.fromFlag(texts, typed[key]!) : fromFlagByKind(spec.kind, texts);
  }
  return { values, typed };
}

function fromFlagByKind(kind: FlagKind, texts: readonly string[]): unknown {
  const last = texts[texts.length - 1]!;
  switch (kind) {
    case 'boolean':
      return true;
    case 'string':
      return last;
    case 'list':
      return splitList(texts);
    case 'seconds':
      return parseSeconds(last);
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(last.trim()) ? Number(last) : last;
  }
}

/** `a,b` `c` → [a, b, c]: every list option is both repeatable and comma-separated. */
export function splitList(texts: readonly string[]): string[] {
  return texts
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `10`, `2.5`, `10s`, `500ms` → seconds; anything else is left for the schema to refuse. */
export function parseSeconds(text: string): number | string {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!m) return text;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : n;
}

/** The zod object of a command's options (command-line-only entries left out). */
export function schemaShape(table: OptionTable, command: Command): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, spec] of entriesFor(table, command)) {
    if (!spec.cliOnly) shape[key] = spec.schema.describe(plain(spec.help));
  }
  return shape;
}

/** Names an option as the user gave it. */
export function nameOf(table: OptionTable, key: string, source: Source | undefined): string {
  if (source?.kind === 'flag') return source.typed;
  if (source?.kind === 'file') return `"${key}" in ${source.file}`;
  const spec = table[key];
  return spec ? `--${spec.flag}` : `"${key}"`;
}

/** One line per zod issue, each naming the option as the user gave it. */
export function describeIssues(
  table: OptionTable,
  error: z.ZodError,
  sourceOf: (key: string) => Source | undefined,
  command: Command,
): string {
  return error.issues
    .map((issue) => {
      const key = issue.path[0];
      if (issue.code === 'unrecognized_keys') {
        const source = sourceOf(issue.keys[0] ?? '');
        const where = source?.kind === 'file' ? ` in ${source.file}` : '';
        return `  - unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${where} (see "mcp-auth-conformance ${command} --help")`;
      }
      const name = key === undefined ? 'the options' : nameOf(table, String(key), sourceOf(String(key)));
      const at = issue.path.length > 1 ? ` (item ${issue.path.slice(1).join('.')})` : '';
      if (issue.code === 'invalid_value' && 'values' in issue && issue.message.startsWith('Invalid option')) {
        return `  - ${name}${at}: must be one of ${issue.values.map(String).join(', ')}`;
      }
      return `  - ${name}${at}: ${readable(issue)}`;
    })
    .join('\n');
}

/**
 * The help text of a command: each option once, grouped, with its placeholder, its help and its
 * default (read from the schema, so it cannot disagree with the code).
 */
export function helpText(
  table: OptionTable,
  command: Command,
  intro: string,
  outro = '',
  /** Whether the command applies the schemas' defaults (run does; list and serve leave absent options absent). */
  showDefaults = true,
): string {
  const groups = new Map<string, string[]>();
  const width = 100;
  const indent = 26;
  for (const [, spec] of entriesFor(table, command)) {
    const head = `  ${spec.short ? `-${spec.short}, ` : ''}--${spec.flag}${spec.value ? ` ${spec.value}` : ''}`;
    const fallback = showDefaults ? defaultOf(spec.schema) : undefined;
    const text =
      fallback === undefined
        ? spec.help
        : /[.)]$/.test(spec.help)
          ? `${spec.help} Default: ${fallback}.`
          : `${spec.help} (default ${fallback})`;
    const lines = wrap(text, width - indent);
    const first =
      head.length < indent - 1
        ? `${head.padEnd(indent)}${lines[0] ?? ''}`
        : `${head}\n${' '.repeat(indent)}${lines[0] ?? ''}`;
    const rest = lines.slice(1).map((l) => `${' '.repeat(indent)}${l}`);
    const list = groups.get(spec.group) ?? [];
    list.push([first, ...rest].join('\n'));
    groups.set(spec.group, list);
  }
  const sections = [...groups].map(([group, lines]) => `${group}:\n${lines.join('\n')}`);
  return `${intro.trimEnd()}\n\n${sections.join('\n\n')}\n${outro ? `\n${outro.trimEnd()}\n` : ''}`;
}

/** The schema's default, as help shows it; undefined when there is none worth showing. */
function defaultOf(schema: z.ZodType): string | undefined {
  const parsed = schema.safeParse(undefined);
  if (!parsed.success) return undefined;
  const value = parsed.data;
  if (value === undefined || value === false) return undefined;
  if (Array.isArray(value)) return value.length > 0 ? value.join(',') : undefined;
  if (typeof value === 'object' && value !== null)
    return Object.keys(value).length > 0 ? JSON.stringify(value) : undefined;
  return String(value);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** zod's range messages ("Too small: expected number to be >0") as sentences. */
function readable(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_small' && issue.message.startsWith('Too small')) {
    if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
    const what = issue.origin === 'array' ? ' item(s)' : '';
    return `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}${what}`;
  }
  if (issue.code === 'too_big' && issue.message.startsWith('Too big')) {
    const what = issue.origin === 'array' ? ' item(s)' : '';
    return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}${what}`;
  }
  return issue.message;
}

/** One line: the config schema's description of an option is its help text. */
function plain(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The closest known flag to a mistyped one (edit distance ≤ 2), for "did you mean". */
function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
