// The rules every check's `control` text obeys (issue #12: "docs/CHECKS.md shows, per check, its
// control"), in one place: test/matrix/controls.test.ts applies them to the registry and shows,
// on made-up suites, that they catch a text that does not match the code.
//
// A refusal proves nothing without a control (DESIGN.md §Anatomy of a check). Each check says in
// `control` which request is its control, or, starting with "None: ", why it judges no refusal.
// The text is held to the code: the source of the check's run() and of every suite helper it
// reaches (same file, or imported from another suite file) is read with the TypeScript parser, and
// a check "uses a control" when it reaches one of the control mechanisms of the shared probe
// helpers, calls t.inconclusive (a control that failed, a race nobody won), or reports
// "control failed: …" itself.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import type { Check } from '../../runner/check.ts';

/**
 * The control mechanisms of the shared probe helpers (suites/*.ts). A name that no suite declares
 * any more is a problem of its own (the test would silently stop seeing it).
 */
export const CONTROL_MECHANISMS = [
  // suites/as-token-probes.ts: token-endpoint refusals and their controls.
  'judgeTokenRefusal',
  'properRedemption',
  'freshRedemption',
  'clientControl',
  'grantTypeControl',
  'earlierAnswer',
  // suites/as-authorize-probe.ts and suites/as-cimd.ts: the valid request, or document, accepted.
  'controlAccepted',
  // suites/as-cimd.ts: a document the AS never fetched concludes nothing.
  'concludesNothing',
  // suites/token-probes.ts: RS negative probes bracketed by their control.
  'underControl',
  'controlHeld',
  'tokenControl',
  'realTokenControl',
  'validTokenControl',
  'onProtectedAndPublicRequests',
  'forger',
  'judgeRefusal',
  'judgeAllRefused',
  // suites/rs-scope.ts: the same call with a token of the scopes the 403 names.
  'withScopeControl',
  'scopeControlsPassed',
  // suites/as-refresh.ts: the plain refresh right before a probe.
  'controlRefresh',
  // suites/rs-public-methods.ts: the anonymous surface sent again with the token.
  'withTokenSurface',
  // suites/rs-transport.ts: the MCP request without the one change.
  'mcpControl',
] as const;

export const NONE_PREFIX = 'None: ';

export type ControlProblemKind =
  | 'no-control'
  | 'missing'
  | 'none-but-controlled'
  | 'control-not-in-code'
  | 'not-analysed'
  | 'unknown-mechanism';

export interface ControlProblem {
  kind: ControlProblemKind;
  check: string;
  message: string;
}

/** What the source says about one check: whether its run() reaches a control, and how. */
export interface ControlUsage {
  /** The mechanisms, t.inconclusive or "control failed" it reaches, with the helper path. */
  evidence: string[];
}

interface Declaration {
  file: string;
  node: ts.Node;
}

interface SuiteFile {
  file: string;
  source: ts.SourceFile;
  /** Top-level functions and function-valued consts, by name. */
  declarations: Map<string, ts.Node>;
  /** Local name → [suite file, exported name] for imports from another suite file. */
  imports: Map<string, [string, string]>;
  /** defineCheck({ id: '…', …, run }) calls: id → the run member. */
  runs: Map<string, ts.Node>;
}

/** Parses suite sources (file name → text) into what the analysis needs. */
function parseSuites(sources: ReadonlyMap<string, string>): Map<string, SuiteFile> {
  const out = new Map<string, SuiteFile>();
  for (const [file, text] of sources) {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const suite: SuiteFile = { file, source, declarations: new Map(), imports: new Map(), runs: new Map() };
    for (const statement of source.statements) {
      if (ts.isFunctionDeclaration(statement) && statement.name)
        suite.declarations.set(statement.name.text, statement);
      if (ts.isVariableStatement(statement))
        for (const d of statement.declarationList.declarations)
          if (ts.isIdentifier(d.name) && d.initializer) suite.declarations.set(d.name.text, d.initializer);
      if (
        ts.isImportDeclaration(statement) &&
        ts.isStringLiteral(statement.moduleSpecifier) &&
        statement.moduleSpecifier.text.startsWith('./')
      ) {
        const from = statement.moduleSpecifier.text.slice(2);
        const named = statement.importClause?.namedBindings;
        if (named && ts.isNamedImports(named))
          for (const el of named.elements)
            suite.imports.set(el.name.text, [from, (el.propertyName ?? el.name).text]);
      }
    }
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        node.expression.getText(source) === 'defineCheck' &&
        node.arguments[0] &&
        ts.isObjectLiteralExpression(node.arguments[0])
      ) {
        const props = node.arguments[0].properties;
        const id = props.find((p) => p.name?.getText(source) === 'id');
        const run = props.find((p) => p.name?.getText(source) === 'run');
        if (id && ts.isPropertyAssignment(id) && ts.isStringLiteral(id.initializer) && run)
          suite.runs.set(id.initializer.text, run);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    out.set(file, suite);
  }
  return out;
}

/**
 * For each check id of the sources: the control evidence its run() reaches, following calls into
 * helpers of the same file and of other suite files (not into runner/: the mechanisms live in
 * suites/). Identifiers are read from the syntax tree, so comments and unrelated text do not count.
 */
export function analyseControls(sources: ReadonlyMap<string, string>): {
  usage: Map<string, ControlUsage>;
  declared: Set<string>;
} {
  const suites = parseSuites(sources);
  const mechanisms = new Set<string>(CONTROL_MECHANISMS);
  const declared = new Set<string>();
  for (const suite of suites.values()) for (const name of suite.declarations.keys()) declared.add(name);

  const resolve = (file: string, name: string): { decl?: Declaration; original: string } => {
    const suite = suites.get(file);
    if (!suite) return { original: name };
    const local = suite.declarations.get(name);
    if (local) return { decl: { file, node: local }, original: name };
    const imported = suite.imports.get(name);
    if (!imported) return { original: name };
    const [from, original] = imported;
    const target = suites.get(from)?.declarations.get(original);
    return { ...(target ? { decl: { file: from, node: target } } : {}), original };
  };

  const evidenceOf = (file: string, root: ts.Node): string[] => {
    const found: string[] = [];
    const seen = new Set<ts.Node>();
    const walk = (file: string, node: ts.Node, path: string) => {
      if (seen.has(node)) return;
      seen.add(node);
      const visit = (n: ts.Node): void => {
        // Types say nothing about what runs (`Parameters<typeof AS_AUTHZ_01.run>`).
        if (ts.isTypeNode(n)) return;
        if (ts.isIdentifier(n)) {
          const name = n.text;
          const { decl, original } = resolve(file, name);
          if (mechanisms.has(original)) found.push(`${path}${original}`);
          else if (name === 'inconclusive' && ts.isPropertyAccessExpression(n.parent) && n.parent.name === n)
            found.push(`${path}t.inconclusive`);
          else if (decl && !ts.isPropertyAccessExpression(n.parent) && !isCheck(decl.node))
            walk(decl.file, decl.node, `${path}${name} → `);
        } else if (
          (ts.isStringLiteral(n) ||
            ts.isNoSubstitutionTemplateLiteral(n) ||
            ts.isTemplateHead(n) ||
            ts.isTemplateMiddle(n) ||
            ts.isTemplateTail(n)) &&
          n.text.includes('control failed')
        )
          found.push(`${path}"control failed"`);
        ts.forEachChild(n, visit);
      };
      visit(node);
    };
    walk(file, root, '');
    return [...new Set(found)];
  };

  const usage = new Map<string, ControlUsage>();
  for (const suite of suites.values())
    for (const [id, run] of suite.runs) usage.set(id, { evidence: evidenceOf(suite.file, run) });
  return { usage, declared };
}

/** A `defineCheck({ … })` call: another check, whose control is its own. */
function isCheck(node: ts.Node): boolean {
  return (
    ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'defineCheck'
  );
}

/** The suite sources of this repository, by file name (as imports name them: `token-probes.ts`). */
export function suiteSources(dir = join(import.meta.dirname, '..', '..', 'suites')): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

/** Every way `checks`' control texts disagree with the code `sources` holds. */
export function controlProblems(
  checks: readonly Pick<Check, 'id' | 'control'>[],
  sources: ReadonlyMap<string, string>,
): ControlProblem[] {
  const { usage, declared } = analyseControls(sources);
  const problems: ControlProblem[] = [];
  for (const name of CONTROL_MECHANISMS)
    if (!declared.has(name))
      problems.push({
        kind: 'unknown-mechanism',
        check: '-',
        message: `no suite declares the control mechanism ${name} any more: update CONTROL_MECHANISMS`,
      });
  for (const check of checks) {
    const text = typeof check.control === 'string' ? check.control : '';
    const none = text.startsWith(NONE_PREFIX);
    const said = (none ? text.slice(NONE_PREFIX.length) : text).trim();
    // "none:", "None -": a check without a control says so in exactly one way.
    const misspelt = !none && /^none\b/i.test(text.trim());
    if (said.length < 10 || misspelt) {
      problems.push({
        kind: 'no-control',
        check: check.id,
        message: `${check.id} does not say which request is its control, or (starting with exactly "${NONE_PREFIX}") why it needs none: ${JSON.stringify(text)}`,
      });
      continue;
    }
    if (/MISSING/.test(text)) {
      problems.push({
        kind: 'missing',
        check: check.id,
        message: `${check.id} judges a refusal without a control: ${text}`,
      });
      continue;
    }
    const used = usage.get(check.id);
    if (!used) {
      problems.push({
        kind: 'not-analysed',
        check: check.id,
        message: `${check.id}: no defineCheck({ id: '${check.id}', … run }) found in suites/, so its control text cannot be held to its code`,
      });
      continue;
    }
    if (none && used.evidence.length > 0)
      problems.push({
        kind: 'none-but-controlled',
        check: check.id,
        message: `${check.id} says "${text}", but its run() uses a control: ${used.evidence.join('; ')}`,
      });
    if (!none && used.evidence.length === 0)
      problems.push({
        kind: 'control-not-in-code',
        check: check.id,
        message: `${check.id} names a control ("${text}"), but its run() reaches no control mechanism, no t.inconclusive and no "control failed"`,
      });
  }
  return problems;
}
