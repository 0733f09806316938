// `npm run docs:specificity`: measures how well aimed each fault is. For every fault of the
// catalogue, the whole suite runs against the embedded reference server with that fault on; the
// checks that end red (fail or warn) and were not red on the clean server are recorded, next to the
// checks that name the fault. The result goes to docs/fault-specificity.json, which
// `npm run docs:checks` turns into the "also red" column of docs/CHECKS.md.
//
// It runs at the newest revision only (2025-only checks are not measured) and takes about a
// second per fault; runs go two at a time (this is a two-core machine).

import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { FAULTS, faultParts, variantsFor } from '../reference-server/faults.ts';
import { LATEST_REVISION } from '../runner/revisions.ts';
import { CHECKS } from '../suites/index.ts';
import { runEmbedded } from './embedded-run.ts';
import { matrixRevision } from './matrix-plan.ts';
import { SPECIFICITY_FILE, type Specificity } from './gen-checks-doc.ts';

const RED = new Set(['fail', 'warn']);

export async function measureSpecificity(concurrency = 2): Promise<Specificity> {
  const clean = await runEmbedded({ revision: LATEST_REVISION });
  const redWhenClean = new Set(clean.report.results.filter((r) => RED.has(r.status)).map((r) => r.id));
  const faults: Specificity['faults'] = {};
  const queue = [...FAULTS];
  const worker = async () => {
    for (let fault = queue.shift(); fault; fault = queue.shift()) {
      const run = await runEmbedded({
        revision: LATEST_REVISION,
        faults: [fault.name],
        variants: variantsFor(fault.name),
      });
      faults[fault.name] = {
        red: run.report.results.filter((r) => RED.has(r.status) && !redWhenClean.has(r.id)).map((r) => r.id),
        named: CHECKS.filter((c) => c.faults.some((entry) => faultParts(entry).includes(fault.name))).map(
          (c) => c.id,
        ),
      };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ordered = Object.fromEntries(FAULTS.map((f) => [f.name, faults[f.name]!]));
  return { revision: LATEST_REVISION, measuredAt: new Date().toISOString(), faults: ordered };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now();
  const specificity = await measureSpecificity();
  writeFileSync(SPECIFICITY_FILE, `${JSON.stringify(specificity, null, 2)}\n`);
  const broad = Object.entries(specificity.faults)
    .map(([name, f]) => ({
      name,
      extra: f.red.filter((id) => !f.named.includes(id)).length,
      missed: f.named.filter((id) => !f.red.includes(id)),
    }))
    .sort((a, b) => b.extra - a.extra);
  console.log(`measured ${FAULTS.length} faults in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log('broadest faults (other checks turned red):');
  for (const f of broad.slice(0, 10)) console.log(`  ${f.name}: ${f.extra}`);
  // Pairs the matrix runs elsewhere (another revision, a fault combination, a non-embedded server)
  // are expected to stay green here; any other named check that stayed green is worth a look.
  const elsewhere = (id: string, fault: string) => {
    const check = CHECKS.find((c) => c.id === id);
    return (
      !check ||
      check.expectedSkipInEmbedded !== undefined ||
      matrixRevision(check, fault) !== LATEST_REVISION ||
      !check.faults.includes(fault)
    );
  };
  const missed = broad
    .map((f) => ({ ...f, missed: f.missed.filter((id) => !elsewhere(id, f.name)) }))
    .filter((f) => f.missed.length > 0);
  if (missed.length > 0)
    console.log(
      `faults whose named checks stayed green at ${LATEST_REVISION}: ${missed.map((f) => `${f.name} (${f.missed.join(', ')})`).join('; ')}`,
    );
}
