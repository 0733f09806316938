// Faults of the resource-server half. See ../faults.ts for the rules a fault follows.
import type { FaultDefinition } from '../faults.ts';

export const RS_FAULTS: readonly FaultDefinition[] = [
  {
    name: 'rs-prm-missing',
    half: 'rs',
    description: 'No protected-resource metadata is served at any well-known URL (RFC 9728 §3).',
  },
];
