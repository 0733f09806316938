// A strict parser for `WWW-Authenticate` (RFC 9110 §11.6.1), for checks that judge challenges.
//
// It is tolerant in what it reads (it recovers after a defect and keeps going, so one bad
// parameter does not hide the rest) and strict in what it reports: every departure from the
// grammar or from the Bearer rules becomes a human sentence in `problems`. Grammar and rules as
// collected in requirements.md §4.1:
//
//   WWW-Authenticate = #challenge                                   RFC 9110 §11.6.1
//   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]     RFC 9110 §11.3
//   auth-param = token BWS "=" BWS ( token / quoted-string )        RFC 9110 §11.2
//   token68    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// Several field lines are one comma-separated list (RFC 9110 §5.3), so the lines are joined with
// ", " before parsing; empty list elements are skipped (RFC 9110 §5.6.1.2).
//
// The header comes from the target, so the parse is bounded: linear in the header's length, at
// most MAX_PROBLEMS sentences (then one that counts the rest), and a sentence quotes at most an
// excerpt of what it found, never the whole header.

export interface AuthParam {
  /** As sent (compare case-insensitively: RFC 9110 §11.2). */
  name: string;
  /** The value, with quoted-pairs of a quoted-string already unescaped. */
  value: string;
  quoted: boolean;
}

export interface Challenge {
  /** As sent (compare case-insensitively: RFC 9110 §11.1). */
  scheme: string;
  params: AuthParam[];
  token68?: string;
}

export interface ChallengeParse {
  challenges: Challenge[];
  /**
   * Human sentences, one per defect: duplicate param, unquoted URL, bad charset, bare Bearer...
   * At most MAX_PROBLEMS, then one sentence that counts the defects not listed.
   */
  problems: string[];
}

/** Defects listed per header; a hostile header may have thousands. */
export const MAX_PROBLEMS = 8;
/** Characters of target-supplied text a problem sentence quotes. */
const EXCERPT_CHARS = 60;

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Sticky: matched at `lastIndex`, so the input is never copied to look ahead. */
const TOKEN68_AT = /[A-Za-z0-9\-._~+/]+=*/y;

/** Collects problem sentences: keeps the first MAX_PROBLEMS, counts the rest. */
class Problems {
  readonly list: string[] = [];
  private dropped = 0;
  push(sentence: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(sentence);
    else this.dropped++;
  }
  result(): string[] {
    return this.dropped === 0
      ? this.list
      : [...this.list, `and ${this.dropped} more defect(s) of the same header, not listed`];
  }
}

/** A bounded quote of target-supplied text: JSON-quoted, cut with its length when long. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  return text.length <= max
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, max))}… (${text.length} characters)`;
}

/** A target-supplied name or value as is when short, else cut with its length. */
function clipped(text: string): string {
  return text.length <= EXCERPT_CHARS ? text : `${text.slice(0, EXCERPT_CHARS)}… (${text.length} characters)`;
}

/** Parses one or more `WWW-Authenticate` field lines into challenges and a list of defects. */
export function parseWwwAuthenticate(fieldLines: readonly string[]): ChallengeParse {
  const problems = new Problems();
  const challenges: Challenge[] = [];
  const input = fieldLines.join(', ');
  if (fieldLines.length === 0 || input.trim() === '') {
    problems.push('WWW-Authenticate is empty: it must hold at least one challenge (RFC 9110 §11.6.1)');
    return { challenges, problems: problems.result() };
  }
  // RFC 9110 §5.5: field values are visible ASCII, SP and HTAB (obs-text only for legacy).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  const badChar = /[^\t\x20-\x7e]/.exec(input);
  if (badChar) {
    problems.push(
      `WWW-Authenticate contains the character U+${badChar[0].codePointAt(0)!.toString(16).padStart(4, '0').toUpperCase()}, which a field value may not carry (RFC 9110 §5.5)`,
    );
  }

  const p = new Cursor(input);
  let current: Challenge | undefined;
  while (true) {
    p.skipListSeparators();
    if (p.done()) break;
    const start = p.pos;
    const token = p.readToken();
    if (token === '') {
      problems.push(
        `unexpected ${describeChar(p.peek())} at offset ${p.pos} (near ${excerpt(input.slice(Math.max(0, p.pos - 20), p.pos + 20))}) of the header (RFC 9110 §11.6.1 grammar)`,
      );
      p.skipToNextElement();
      continue;
    }
    p.skipWhitespace();
    if (p.peek() === '=') {
      // An auth-param of the current challenge.
      p.advance(); // '='
      p.skipWhitespace();
      if (!current) {
        problems.push(`parameter ${clipped(token)} appears before any auth-scheme (RFC 9110 §11.6.1)`);
      }
      const param = readParamValue(p, token, problems);
      current?.params.push(param);
      expectElementEnd(p, `the value of ${clipped(token)}`, problems);
      continue;
    }
    // A new challenge: `token` is its scheme.
    current = { scheme: token, params: [] };
    challenges.push(current);
    if (p.done() || p.peek() === ',') continue;
    if (p.pos === start + token.length) {
      problems.push(
        `auth-scheme ${clipped(token)} is followed by ${describeChar(p.peek())} instead of a space (RFC 9110 §11.3)`,
      );
      p.skipToNextElement();
      continue;
    }
    // After 1*SP: token68, or the first auth-param (handled by the loop).
    TOKEN68_AT.lastIndex = p.pos;
    const t68 = TOKEN68_AT.exec(input);
    if (t68 && isElementEnd(input, p.pos + t68[0].length)) {
      current.token68 = t68[0];
      p.pos += t68[0].length;
      continue;
    }
  }

  for (const ch of challenges) checkChallenge(ch, problems);
  return { challenges, problems: problems.result() };
}

/** The first challenge whose scheme is Bearer (case-insensitive, RFC 9110 §11.1). */
export function bearerChallenge(parse: ChallengeParse): Challenge | undefined {
  return parse.challenges.find((c) => c.scheme.toLowerCase() === 'bearer');
}

/** The value of a parameter, by case-insensitive name (RFC 9110 §11.2); the first if repeated. */
export function param(ch: Challenge, name: string): string | undefined {
  const lower = name.toLowerCase();
  return ch.params.find((p) => p.name.toLowerCase() === lower)?.value;
}

// --- grammar helpers -----------------------------------------------------------------------

class Cursor {
  pos = 0;
  constructor(readonly s: string) {}
  done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string | undefined {
    return this.s[this.pos];
  }
  advance(): void {
    this.pos++;
  }
  skipWhitespace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  skipListSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }
  readToken(): string {
    const start = this.pos;
    while (!this.done() && TCHAR.test(this.s[this.pos]!)) this.pos++;
    return this.s.slice(start, this.pos);
  }
  /** Recovery: moves to the next comma outside a quoted string. */
  skipToNextElement(): void {
    let inQuotes = false;
    while (!this.done()) {
      const c = this.s[this.pos]!;
      if (inQuotes && c === '\\') this.pos++;
      else if (c === '"') inQuotes = !inQuotes;
      else if (c === ',' && !inQuotes) return;
      this.pos++;
    }
  }
}

function isElementEnd(s: string, at: number): boolean {
  let i = at;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i === s.length || s[i] === ',';
}

function readParamValue(p: Cursor, name: string, problems: Problems): AuthParam {
  if (p.peek() === '"') {
    p.advance();
    let value = '';
    while (!p.done() && p.peek() !== '"') {
      if (p.peek() === '\\') {
        p.advance();
        if (p.done()) break;
      }
      value += p.peek();
      p.advance();
    }
    if (p.done()) {
      problems.push(
        `the quoted value of ${clipped(name)} is not terminated by a closing quote (RFC 9110 §5.6.4)`,
      );
    } else {
      p.advance(); // closing quote
    }
    return { name, value, quoted: true };
  }
  // Unquoted: RFC 9110 §11.2 allows only a token. Read up to the next separator to report what
  // was sent (e.g. an unquoted URL), not just its first token.
  const start = p.pos;
  while (!p.done() && p.peek() !== ',' && p.peek() !== ' ' && p.peek() !== '\t') p.advance();
  const value = p.s.slice(start, p.pos);
  if (value === '') {
    problems.push(
      `parameter ${clipped(name)} has no value: write ${name.slice(0, EXCERPT_CHARS)}="" if empty is meant (RFC 9110 §11.2)`,
    );
  } else if (!TOKEN.test(value)) {
    problems.push(
      `the value of ${clipped(name)} (${clipped(value)}) is not a token and must be a quoted-string (RFC 9110 §11.2)`,
    );
  }
  return { name, value, quoted: false };
}

function expectElementEnd(p: Cursor, what: string, problems: Problems): void {
  p.skipWhitespace();
  if (p.done() || p.peek() === ',') return;
  const from = p.pos;
  p.skipToNextElement();
  problems.push(
    `unexpected text after ${what}: ${excerpt(p.s.slice(from, p.pos).trim())} (a '"' or '\\' inside a quoted-string must be escaped, RFC 9110 §5.6.4)`,
  );
}

function describeChar(c: string | undefined): string {
  return c === undefined ? 'end of field' : `character ${JSON.stringify(c)}`;
}

// --- rules per challenge ------------------------------------------------------------------

// OAuth 2.1 §5.3.1 (RFC 6750 §3) character sets.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const ERROR_CHARS = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const URI_CHARS = /^[\x21\x23-\x5b\x5d-\x7e]*$/;
const BEARER_SINGLETONS = ['realm', 'scope', 'error', 'error_description', 'error_uri'];

function checkChallenge(ch: Challenge, problems: Problems): void {
  const seen = new Set<string>();
  for (const p of ch.params) {
    const lower = p.name.toLowerCase();
    if (seen.has(lower)) {
      problems.push(
        `${clipped(ch.scheme)} challenge repeats parameter ${clipped(lower)}: each parameter may appear at most once (RFC 9110 §11.2)`,
      );
    }
    seen.add(lower);
    if (lower === 'realm' && !p.quoted) {
      problems.push(
        `${clipped(ch.scheme)} realm is not a quoted-string: realm must always be quoted (RFC 9110 §11.5)`,
      );
    }
  }
  if (ch.scheme.toLowerCase() !== 'bearer') return;

  if (ch.token68 !== undefined) {
    problems.push('Bearer challenge carries a token68; RFC 6750 §3 defines only auth-params for Bearer');
  } else if (ch.params.length === 0) {
    problems.push(
      'bare Bearer challenge with no parameters: MCP clients need at least resource_metadata or scope (RFC 6750 §3, OAuth 2.1 §5.3.1, requirements §4.1)',
    );
  }
  for (const p of ch.params) {
    const lower = p.name.toLowerCase();
    if (!BEARER_SINGLETONS.includes(lower) && lower !== 'resource_metadata') continue;
    if (lower === 'scope') checkScope(p.value, problems);
    if ((lower === 'error' || lower === 'error_description') && !ERROR_CHARS.test(p.value)) {
      problems.push(
        `Bearer ${lower} contains characters outside %x20-21 / %x23-5B / %x5D-7E (no '"' or '\\'): ${excerpt(p.value)} (OAuth 2.1 §5.3.1, RFC 6750 §3)`,
      );
    }
    if (lower === 'error_uri' && !URI_CHARS.test(p.value)) {
      problems.push(`Bearer error_uri contains characters not allowed in a URI-reference (RFC 6750 §3)`);
    }
  }
}

function checkScope(value: string, problems: Problems): void {
  // scope = scope-token *( SP scope-token ): one space between tokens, none around them.
  const tokens = value.split(' ');
  if (tokens.some((t) => t === '')) {
    problems.push(
      `Bearer scope ${excerpt(value)} is not a list of scope-tokens separated by single spaces (OAuth 2.1 §5.3.1, RFC 6749 §3.3)`,
    );
  }
  for (const t of tokens) {
    if (t !== '' && !SCOPE_TOKEN.test(t)) {
      problems.push(
        `Bearer scope token ${excerpt(t)} contains characters outside %x21 / %x23-5B / %x5D-7E (OAuth 2.1 §5.3.1)`,
      );
    }
  }
}
