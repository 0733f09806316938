// Faults of the authorization-server half. See ../faults.ts for the rules a fault follows.
import type { FaultDefinition } from '../faults.ts';

export const AS_FAULTS: readonly FaultDefinition[] = [
  {
    name: 'as-issuer-trailing-slash',
    half: 'as',
    description: 'Metadata `issuer` carries a trailing slash, so it differs from the issuer identifier (RFC 8414 §3.3).',
  },
];
