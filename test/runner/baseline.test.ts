// Baselines and --fail-on: which results decide the exit code.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Baseline, BaselineError, judge, loadBaseline } from '../../runner/baseline.ts';

const dir = mkdtempSync(join(tmpdir(), 'baseline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadBaseline', () => {
  it('reads JSON and YAML, defaulting status to fail', () => {
    const json = loadBaseline(
      file('b.json', JSON.stringify({ 'expected-failures': [{ id: 'RS-401-05', reason: 'known' }] })),
    );
    expect(json['expected-failures']).toEqual([{ id: 'RS-401-05', status: 'fail', reason: 'known' }]);
    const yaml = loadBaseline(
      file('b.yaml', 'expected-failures:\n  - id: AS-ISS-01\n    status: warn\n    reason: upstream\n'),
    );
    expect(yaml['expected-failures']).toEqual([{ id: 'AS-ISS-01', status: 'warn', reason: 'upstream' }]);
  });

  it.each([
    ['missing.json', null, /cannot read baseline/],
    ['broken.json', '{', /is not valid JSON/],
    ['broken.yaml', 'a: [', /is not valid YAML/],
    ['noreason.json', '{"expected-failures":[{"id":"RS-PRM-01"}]}', /expected-failures\.0\.reason/],
    ['badid.json', '{"expected-failures":[{"id":"nope","reason":"x"}]}', /check ID like RS-PRM-01/],
    ['badstatus.json', '{"expected-failures":[{"id":"RS-PRM-01","status":"pass","reason":"x"}]}', /status/],
    ['extra.json', '{"expected-failures":[],"other":1}', /other/],
    [
      'twice.json',
      '{"expected-failures":[{"id":"RS-PRM-01","reason":"a"},{"id":"RS-PRM-01","reason":"b"}]}',
      /twice/,
    ],
  ])('refuses %s with a sentence', (name, text, message) => {
    const path = text === null ? join(dir, name) : file(name, text);
    expect(() => loadBaseline(path)).toThrow(BaselineError);
    expect(() => loadBaseline(path)).toThrow(message);
  });
});

describe('judge', () => {
  const results = [
    { id: 'A-1', status: 'pass' as const },
    { id: 'A-2', status: 'fail' as const },
    { id: 'A-3', status: 'warn' as const },
    { id: 'A-4', status: 'error' as const },
  ];
  const baseline = (entries: Baseline['expected-failures']): Baseline => ({ 'expected-failures': entries });

  it('fails on a fail by default, not on a warn or an error', () => {
    const v = judge(results);
    expect(v.exitCode).toBe(1);
    expect(v.unexpected.map((r) => r.id)).toEqual(['A-2']);
    expect(judge(results.filter((r) => r.id !== 'A-2')).exitCode).toBe(0);
  });

  it('--fail-on should counts warnings too; never counts nothing', () => {
    expect(judge(results, { failOn: 'should' }).unexpected.map((r) => r.id)).toEqual(['A-2', 'A-3']);
    expect(judge(results, { failOn: 'never' }).exitCode).toBe(0);
  });

  it('a baseline entry covers exactly its id and status', () => {
    const v = judge(results, { baseline: baseline([{ id: 'A-2', status: 'fail', reason: 'known' }]) });
    expect(v.exitCode).toBe(0);
    expect(v.expected.map((e) => e.result.id)).toEqual(['A-2']);
    const wrongStatus = judge(results, {
      baseline: baseline([{ id: 'A-2', status: 'warn', reason: 'known' }]),
    });
    expect(wrongStatus.exitCode).toBe(1);
    expect(wrongStatus.messages.join('\n')).toMatch(/A-2: fail, and the baseline does not list it/);
  });

  it('a listed failure that no longer happens is stale and fails the run', () => {
    const v = judge(results, {
      baseline: baseline([
        { id: 'A-2', status: 'fail', reason: 'known' },
        { id: 'A-1', status: 'fail', reason: 'was broken' },
      ]),
    });
    expect(v.exitCode).toBe(1);
    expect(v.stale).toEqual([{ entry: { id: 'A-1', status: 'fail', reason: 'was broken' }, now: 'pass' }]);
    expect(v.messages).toEqual([
      'A-1: the baseline expects fail but it is now pass; remove the stale entry ("was broken")',
    ]);
  });

  it('an entry whose check did not run is neither stale nor expected', () => {
    const v = judge(
      results.filter((r) => r.id !== 'A-2'),
      {
        baseline: baseline([{ id: 'A-9', status: 'fail', reason: 'other revision' }]),
      },
    );
    expect(v.exitCode).toBe(0);
    expect(v.notRun.map((e) => e.id)).toEqual(['A-9']);
  });
});
