// Every check states its control (issue #12: "docs/CHECKS.md shows, per check, its control"), and
// the text matches the code: a check whose run() uses a control does not say "None: ", a check
// that names a control reaches one, and no check admits a MISSING control. The rules live in
// control-rules.ts; the second block shows on made-up suites that each rule can fail.

import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../suites/index.ts';
import { analyseControls, type ControlProblemKind, controlProblems, suiteSources } from './control-rules.ts';

const sources = suiteSources();
const problems = controlProblems(CHECKS, sources);
const KINDS: readonly ControlProblemKind[] = [
  'no-control',
  'missing',
  'none-but-controlled',
  'control-not-in-code',
  'not-analysed',
  'unknown-mechanism',
];

describe('every check states its control, and the code agrees', () => {
  it.each(KINDS)('no %s', (kind) => {
    expect(problems.filter((p) => p.kind === kind).map((p) => p.message)).toEqual([]);
  });

  it('the analysis reads every check of the registry, and finds both kinds', () => {
    const { usage } = analyseControls(sources);
    expect(CHECKS.filter((c) => !usage.has(c.id)).map((c) => c.id)).toEqual([]);
    const controlled = CHECKS.filter((c) => !c.control.startsWith('None: '));
    // Most checks judge a refusal; a catalogue where none does would mean the analysis broke.
    expect(controlled.length).toBeGreaterThan(CHECKS.length / 2);
    expect(CHECKS.length - controlled.length).toBeGreaterThan(20);
  });
});

/** A made-up suite file: checks with these run bodies, and a helper that uses a mechanism. */
function suite(runs: Record<string, string>): Map<string, string> {
  const checks = Object.entries(runs)
    .map(
      ([id, body]) =>
        `export const C_${id.replace(/-/g, '_')} = defineCheck({ id: '${id}', async run(t) { ${body} } });`,
    )
    .join('\n');
  return new Map([
    ...sources,
    [
      'made-up.ts',
      `import { underControl } from './token-probes.ts';
       import { judgeTokenRefusal as judge } from './as-token-probes.ts';
       async function bracketed(t) { return underControl(t, control, probe); }
       ${checks}`,
    ],
  ]);
}

describe('the rules can fail', () => {
  const runs = {
    'T-NONE-01': 'await bracketed(t);', // a helper of the same file reaches underControl
    'T-NONE-02': 'await judge(t, "x", probe, {});', // an aliased import of a mechanism
    'T-NONE-03': 't.inconclusive("a race nobody won");',
    'T-NONE-04': 't.prerequisiteMissing(`control failed: ${why}`, how);',
    'T-CTRL-01': 't.conforms("read the metadata"); // underControl in a comment does not count',
    'T-MISS-01': 't.conforms("a refusal taken as proof");',
    'T-EMPTY-01': '',
  };
  const made = suite(runs);
  const kinds = (checks: { id: string; control: string }[]) =>
    controlProblems(checks, made).map((p) => `${p.check} ${p.kind}`);

  it('"None: " for a check that uses a control, directly, through a helper or an alias', () => {
    const none = 'None: the check only reads what it receives.';
    expect(
      kinds(['T-NONE-01', 'T-NONE-02', 'T-NONE-03', 'T-NONE-04'].map((id) => ({ id, control: none }))),
    ).toEqual(['T-NONE-01', 'T-NONE-02', 'T-NONE-03', 'T-NONE-04'].map((id) => `${id} none-but-controlled`));
  });

  it('a control named in the text that the code does not reach', () => {
    expect(
      kinds([{ id: 'T-CTRL-01', control: 'The same request with a valid token, right after.' }]),
    ).toEqual(['T-CTRL-01 control-not-in-code']);
  });

  it('MISSING, an empty text, a bare "None: ", and a check the analysis cannot find', () => {
    expect(
      kinds([
        { id: 'T-MISS-01', control: 'MISSING: the refusal is judged without a control.' },
        { id: 'T-EMPTY-01', control: '' },
        { id: 'T-NONE-01', control: 'None: ' },
        { id: 'T-NOWHERE-01', control: 'None: the check only reads what it receives.' },
      ]),
    ).toEqual([
      'T-MISS-01 missing',
      'T-EMPTY-01 no-control',
      'T-NONE-01 no-control',
      'T-NOWHERE-01 not-analysed',
    ]);
  });

  it('a text that matches the code passes', () => {
    expect(
      kinds([
        { id: 'T-NONE-01', control: 'The same request with a valid token, right before and after.' },
        { id: 'T-CTRL-01', control: 'None: the check only reads what it receives.' },
      ]),
    ).toEqual([]);
  });
});
