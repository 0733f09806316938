// The catalogue of named faults of the reference server.
//
// A fault breaks exactly one behaviour of the server, so that a check can be proven able to fail
// (and to fail for the right reason). Faults are switched on with `--fault NAME` (repeatable) or
// `startReferenceServer({ faults: [...] })`, never on by default, and each one is read in exactly
// one place of the code through `ctx.fault('name')`, so `grep "fault('name')"` finds it.
//
// Each half of the server keeps its own list (as/faults.ts, rs/faults.ts); this file joins them.
// The `checks` that each fault must turn red are not written here: checks name their faults
// (`defineCheck({ faults: [...] })`), and `describeFaults` derives the reverse index from the
// check registry, so the two can never disagree.

import { AS_FAULTS } from './as/faults.ts';
import { RS_FAULTS } from './rs/faults.ts';

export interface FaultDefinition {
  /** kebab-case, stable: it appears in CLI flags, check metadata and reports. */
  readonly name: string;
  /** Which half of the server the fault breaks. */
  readonly half: 'as' | 'rs';
  /** One sentence: what the server does wrong when the fault is on. */
  readonly description: string;
  /**
   * Variants (variants.ts) the defect needs to be observable at all: the fault matrix switches
   * them on with the fault (a cached introspection answer needs a resource server that introspects).
   */
  readonly requiresVariants?: readonly string[];
}

export const FAULTS: readonly FaultDefinition[] = [...AS_FAULTS, ...RS_FAULTS];

const FAULT_NAMES = new Set(FAULTS.map((f) => f.name));

export function isFaultName(name: string): boolean {
  return FAULT_NAMES.has(name);
}

/** Throws a usage error naming the unknown faults, so a typo never silently runs a clean server. */
export function assertFaultNames(names: readonly string[]): void {
  const unknown = names.filter((n) => !FAULT_NAMES.has(n));
  if (unknown.length > 0) {
    throw new UnknownFaultError(unknown);
  }
}

export class UnknownFaultError extends Error {
  constructor(readonly unknown: readonly string[]) {
    super(
      `unknown fault${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (list them with --list-faults)`,
    );
    this.name = 'UnknownFaultError';
  }
}

/**
 * The faults of one entry of a check's `faults` list. An entry is one fault name, or several
 * joined by `+` when only their combination produces the defect (a PKCE downgrade needs an AS that
 * both lets the challenge be omitted and ignores a verifier): `as-pkce-optional+as-pkce-verifier-ignored`.
 */
export function faultParts(entry: string): string[] {
  return entry.split('+');
}

export interface FaultListing {
  name: string;
  description: string;
  checks: string[];
  /** Variants to switch on with the fault (absent when none). */
  requiresVariants?: string[];
}

/**
 * The catalogue as `--list-faults` prints it: `[{ name, description, checks }]`, where `checks`
 * are the IDs of the checks that name the fault (derived from the registry passed in).
 */
export function describeFaults(
  checks: readonly { id: string; faults: readonly string[] }[] = [],
): FaultListing[] {
  return FAULTS.map((f) => ({
    name: f.name,
    description: f.description,
    checks: checks
      .filter((c) => c.faults.some((entry) => faultParts(entry).includes(f.name)))
      .map((c) => c.id),
    ...(f.requiresVariants ? { requiresVariants: [...f.requiresVariants] } : {}),
  }));
}

/** The variants an entry of a check's `faults` list needs switched on (the union over its parts). */
export function variantsFor(entry: string): string[] {
  const parts = faultParts(entry);
  return [...new Set(FAULTS.filter((f) => parts.includes(f.name)).flatMap((f) => f.requiresVariants ?? []))];
}
