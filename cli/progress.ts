// The terminal while a run goes: a header saying what is checked against which revision, one line
// per check in catalogue order (so two runs print the same lines in the same places), and at the
// end the counts, a recap of every fail, warn and error with its one-line reason, and the verdict.
//
// On a TTY a status line of the running checks is redrawn in place, cut to the terminal's width
// (a longer line would wrap, and the erase sequence clears only the last row of it); otherwise (CI
// logs, pipes) there is no status line, only plain lines. Colour only on a TTY and never when
// NO_COLOR is set (https://no-color.org: any non-empty value). Every line passes the redactor.

import type { Check, Level, Status } from '../runner/check.ts';
import type { CheckResult } from '../runner/engine.ts';
import { summarize } from '../runner/engine.ts';
import { groupCouldNotRun } from '../reports/could-not-run.ts';
import { clipText } from '../runner/redact.ts';

/** The longest line progress prints (a check message or a notice), cut with its length and hash. */
const MAX_LINE_CHARS = 2_000;
import type { Redactor } from '../runner/redact.ts';
import type { Report } from '../reports/json.ts';
import { EXIT_MEANING } from '../runner/verdict.ts';

export interface ProgressOptions {
  write: (text: string) => void;
  tty: boolean;
  /** The terminal's width now (it can change during a run); undefined when unknown. */
  columns?: () => number | undefined;
  env: NodeJS.ProcessEnv;
  redactor: Redactor;
}

const COLORS: Record<Status, number> = { pass: 32, fail: 31, warn: 33, skip: 90, error: 35, info: 36 };
const ERASE_LINE = '\r\x1b[2K';
const RECAP: readonly Status[] = ['fail', 'error', 'warn'];

export class Progress {
  private readonly color: boolean;
  private readonly running = new Map<string, Check>();
  /** Results not printed yet, waiting for the checks before them in the catalogue. */
  private readonly pending = new Map<string, CheckResult>();
  private order: readonly string[] = [];
  private printed = 0;
  private done = 0;
  private statusLineShown = false;

  constructor(private readonly opts: ProgressOptions) {
    this.color = opts.tty && !opts.env.NO_COLOR;
  }

  header(info: {
    version: string;
    target: string;
    embedded: boolean;
    faults: readonly string[];
    /** Legal behaviours of the embedded reference server switched on (--variant). */
    variants: readonly string[];
    revision: string;
    /** How the revision was chosen (forced, embedded, or what the server answered to --spec auto). */
    revisionNote?: string;
    /** IDs of the selected checks, in catalogue order: results are printed in this order. */
    order: readonly string[];
    strict: boolean;
  }): void {
    this.order = info.order;
    const where = info.embedded ? `embedded reference server at ${info.target}` : info.target;
    this.line(`mcp-auth-conformance ${info.version}: ${info.order.length} check(s) against ${where}`);
    this.line(`spec revision ${info.revision}${info.strict ? ', strict (a violated SHOULD fails)' : ''}`);
    if (info.revisionNote) this.line(`  (${this.opts.redactor.text(info.revisionNote)})`);
    if (info.faults.length > 0) this.line(`faults switched on: ${info.faults.join(', ')}`);
    if (info.variants.length > 0) this.line(`variants switched on: ${info.variants.join(', ')}`);
    this.line('');
  }

  start(check: Check): void {
    this.running.set(check.id, check);
    this.redrawStatus();
  }

  result(result: CheckResult): void {
    this.running.delete(result.id);
    this.done++;
    this.pending.set(result.id, result);
    this.clearStatus();
    // Print every result whose predecessors in the catalogue have all been printed.
    while (this.printed < this.order.length && this.pending.has(this.order[this.printed]!)) {
      const id = this.order[this.printed++]!;
      this.printResult(this.pending.get(id)!);
      this.pending.delete(id);
    }
    this.redrawStatus();
  }

  /** The end of the run: anything still unprinted, the counts, the recap and the verdict. */
  summary(
    results: readonly CheckResult[],
    verdict: Report['verdict'],
    extra: {
      durationMs: number;
      authorizationFlows: number;
      /** With --login manual: authorizations that needed the person (reports/json.ts). */
      humanActions?: number;
      files: string[];
    },
  ): void {
    this.running.clear();
    this.clearStatus();
    for (; this.printed < this.order.length; this.printed++) {
      const result = this.pending.get(this.order[this.printed]!);
      if (result) this.printResult(result);
    }
    const { byStatus, byLevel } = summarize(results);
    this.line('');
    const counts = (Object.keys(byStatus) as Status[])
      .map((s) => `${this.paint(s, `${byStatus[s]} ${s}`)}`)
      .join(', ');
    this.line(`${results.length} check(s): ${counts}`);
    for (const level of Object.keys(byLevel) as Level[]) {
      const row = byLevel[level];
      const total = Object.values(row).reduce((a, b) => a + b, 0);
      if (total === 0) continue;
      const parts = (Object.keys(row) as Status[]).filter((s) => row[s] > 0).map((s) => `${row[s]} ${s}`);
      this.line(`  ${level.padEnd(6)} ${parts.join(', ')}`);
    }
    const couldNotRun = groupCouldNotRun(results);
    if (couldNotRun.length > 0) {
      this.line(
        `could not run ${couldNotRun.reduce((n, g) => n + g.checks.length, 0)} check(s); to run them:`,
      );
      for (const group of couldNotRun)
        this.line(`  - ${this.opts.redactor.text(group.howToProvide)} (${group.checks.join(', ')})`);
    }
    this.line(
      `${extra.authorizationFlows} authorization flow(s)${
        extra.humanActions !== undefined ? `, ${extra.humanActions} of them needed you in the browser` : ''
      }, ${(extra.durationMs / 1000).toFixed(1)} s`,
    );
    for (const file of extra.files) this.line(`wrote ${file}`);

    const accepted = new Map(verdict.accepted.map((a) => [a.id, a.reason]));
    const attention = RECAP.flatMap((s) => results.filter((r) => r.status === s));
    if (attention.length > 0) {
      this.line('');
      this.line('Needs attention:');
      for (const r of attention) {
        const note = accepted.has(r.id) ? ` [accepted by the baseline: ${accepted.get(r.id)}]` : '';
        this.line(
          `  ${this.paint(r.status, r.status.toUpperCase().padEnd(5))} ${r.id.padEnd(12)} ${this.oneLine(r.message)}${note}`,
        );
      }
    }
    this.line('');
    const mark: Status = verdict.exitCode === 0 ? (verdict.certifiable ? 'pass' : 'warn') : 'fail';
    this.line(`verdict: ${this.paint(mark, verdict.headline)}`);
    for (const detail of verdict.details) this.line(`  ${detail}`);
    this.line(`exit code ${verdict.exitCode}: ${EXIT_MEANING[verdict.exitCode] ?? ''}`);
  }

  /** A line outside the check list (a login URL to open, a warning). */
  line(text: string): void {
    this.clearStatus();
    this.opts.write(`${clipText(this.opts.redactor.text(text), MAX_LINE_CHARS)}\n`);
    this.redrawStatus();
  }

  private printResult(result: CheckResult): void {
    const status = this.paint(result.status, result.status.toUpperCase().padEnd(5));
    // A message may quote what a hostile target sent: the terminal gets at most a screenful.
    const message = clipText(this.opts.redactor.text(result.message.replace(/\s+/g, ' ')), MAX_LINE_CHARS);
    this.opts.write(
      `${status} ${result.id.padEnd(12)} ${result.level.padEnd(6)} ${result.title}${result.status === 'pass' ? '' : `\n      ${message}`}\n`,
    );
  }

  /** The reason of a recap line: one line, cut to what fits beside the status and ID. */
  private oneLine(message: string): string {
    const flat = this.opts.redactor.text(message).replace(/\s+/g, ' ').trim();
    const room = Math.max(40, (this.opts.tty ? (this.opts.columns?.() ?? 80) : 160) - 22);
    return flat.length > room ? `${flat.slice(0, room - 1)}…` : flat;
  }

  private paint(status: Status, text: string): string {
    return this.color ? `\x1b[${COLORS[status]}m${text}\x1b[0m` : text;
  }

  private clearStatus(): void {
    if (this.statusLineShown) {
      this.opts.write(ERASE_LINE);
      this.statusLineShown = false;
    }
  }

  private redrawStatus(): void {
    if (!this.opts.tty || this.running.size === 0) return;
    this.clearStatus();
    const ids = [...this.running.keys()].join(', ');
    const text = `  running (${this.done}/${this.order.length} done): ${ids}`;
    // One column short of the width: writing into the last column makes some terminals wrap.
    const width = Math.max(20, (this.opts.columns?.() ?? 80) - 1);
    this.opts.write(text.length > width ? `${text.slice(0, width - 1)}…` : text);
    this.statusLineShown = true;
  }
}
