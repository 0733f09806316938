// No rejection or exception may end a run (issue #14): while a run is on, one that escapes (a
// promise nobody awaited, a throw in a timer) becomes an `error` on the check whose work it came
// from (runner/engine.ts attributeEscape), or, outside any check, a harness error of the run. The
// reports are written either way.

import { attributeEscape } from '../runner/engine.ts';

export interface EscapeGuard {
  /** Escapes no check owned, as sentences (the run's harness errors). */
  readonly harnessErrors: string[];
  /** Removes the process listeners (after the reports are written). */
  dispose(): void;
}

export function installEscapeGuard(
  log: (line: string) => void,
  redact: (text: string) => string,
): EscapeGuard {
  const harnessErrors: string[] = [];
  const onEscape = (err: unknown) => {
    const id = attributeEscape(err);
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    if (id === undefined) harnessErrors.push(`harness error outside any check: ${what}`);
    log(`error: ${id ?? 'the run'}: work failed with nobody waiting for it: ${redact(what)}`);
  };
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
  return {
    harnessErrors,
    dispose: () => {
      process.off('unhandledRejection', onEscape);
      process.off('uncaughtException', onEscape);
    },
  };
}
