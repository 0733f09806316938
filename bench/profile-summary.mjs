// Summarises a V8 .cpuprofile (node --cpu-prof) by self time: top functions and top files.
//
//   node bench/profile-summary.mjs /tmp/prof/CPU.*.cpuprofile      (PROFILE_TOP=N rows, default 25)
//
// Given several files (tsx's loader thread writes its own), the busiest one (fewest idle samples
// relative to its length) is read.
//
// With PROFILE_INCLUSIVE=name1,name2 it also prints the inclusive (self + callees) time of the
// functions with those names, which is how the per-request SDK costs were attributed.

import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile>...');
  process.exit(2);
}
const top = Number(process.env.PROFILE_TOP ?? 25);
const busy = (p) => {
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return p.samples.filter((id) => !idle.has(id)).length;
};
const profile = files.map((f) => JSON.parse(readFileSync(f, 'utf8'))).sort((a, b) => busy(b) - busy(a))[0];
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the samples and their time deltas (µs).
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

const shortUrl = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, 'nm:')
    .replace(/.*\/work\/main\//, '');
const keyOf = (n) => {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'}  ${shortUrl(f.url) || '(native)'}:${f.lineNumber + 1}`;
};

const byFunction = new Map();
const byFile = new Map();
for (const [id, us] of self) {
  const n = nodes.get(id);
  const key = keyOf(n);
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const fileKey = shortUrl(n.callFrame.url) || `(${n.callFrame.functionName || 'native'})`;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const print = (title, map, n) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n))
    console.log(`${ms(us)} ${pct(us)}  ${k}`);
};
console.log(`total sampled: ${(total / 1000).toFixed(0)} ms`);
print('self time by function', byFunction, top);
print('self time by file', byFile, top);

// Inclusive time of named functions (counting a sample once even under recursion).
const names = (process.env.PROFILE_INCLUSIVE ?? '').split(',').filter(Boolean);
if (names.length > 0) {
  console.log('\ninclusive time');
  for (const name of names) {
    let us = 0;
    for (const [id, t] of self) {
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        if (nodes.get(cur).callFrame.functionName === name) {
          us += t;
          break;
        }
      }
    }
    console.log(`${ms(us)} ${pct(us)}  ${name}`);
  }
}

// PROFILE_CALLERS=name: where the time of that function (inclusive) comes from, by the chain of
// its nearest callers (PROFILE_DEPTH levels, default 4).
const callersOf = process.env.PROFILE_CALLERS;
if (callersOf) {
  const depth = Number(process.env.PROFILE_DEPTH ?? 4);
  const chains = new Map();
  for (const [id, t] of self) {
    let cur = id;
    while (cur !== undefined && nodes.get(cur).callFrame.functionName !== callersOf) cur = parent.get(cur);
    if (cur === undefined) continue;
    const chain = [];
    for (let p = parent.get(cur); p !== undefined && chain.length < depth; p = parent.get(p))
      chain.push(keyOf(nodes.get(p)));
    const key = chain.join('\n        <- ');
    chains.set(key, (chains.get(key) ?? 0) + t);
  }
  console.log(`\ncallers of ${callersOf}`);
  for (const [k, us] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, 8))
    console.log(`${ms(us)} ${pct(us)}  <- ${k}`);
}

// PROFILE_INCLUSIVE_TOP=N: the N functions with the most inclusive time (each sample counted once
// per function even under recursion).
const inclusiveTop = Number(process.env.PROFILE_INCLUSIVE_TOP ?? 0);
if (inclusiveTop > 0) {
  const inclusive = new Map();
  for (const [id, t] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = keyOf(nodes.get(cur));
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
  }
  print('inclusive time by function', inclusive, inclusiveTop);
}
