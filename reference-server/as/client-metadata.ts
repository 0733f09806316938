// Validation of client metadata (RFC 7591 §2), shared by dynamic registration and Client ID
// Metadata Documents, which use the same member names (CIMD draft-00 §4.1).

import type { ServerContext } from '../context.ts';
import type { ClientMetadata } from '../store.ts';
import { redirectUriProblem } from './redirect-uris.ts';

/** A registration error: RFC 7591 §3.2.2 codes. */
export class ClientMetadataError extends Error {
  constructor(
    readonly error: 'invalid_redirect_uri' | 'invalid_client_metadata',
    readonly description: string,
  ) {
    super(description);
    this.name = 'ClientMetadataError';
  }
}

const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const;
const GRANT_TYPES = ['authorization_code', 'refresh_token'];
const STRING_MEMBERS = [
  'client_name',
  'client_uri',
  'logo_uri',
  'scope',
  'tos_uri',
  'policy_uri',
  'software_id',
  'software_version',
] as const;

/**
 * Checks the members this AS understands and returns the metadata it registers, defaults filled
 * in. Unknown members are ignored (RFC 7591 §2: "MUST ignore any client metadata ... that it does
 * not understand"). `kind` picks the source's extra rules: a metadata document may not declare a
 * shared secret (CIMD draft-00 §4.1), and its default auth method is `none` (it has no secret).
 */
export function parseClientMetadata(
  ctx: ServerContext,
  input: Record<string, unknown>,
  kind: 'dcr' | 'cimd',
): ClientMetadata {
  const redirectUris = input.redirect_uris;
  if (!isStringArray(redirectUris) || redirectUris.length === 0) {
    throw new ClientMetadataError(
      'invalid_redirect_uri',
      'redirect_uris must be a non-empty array of strings',
    );
  }
  for (const uri of redirectUris) {
    const problem = redirectUriProblem(ctx, uri);
    if (problem) throw new ClientMetadataError('invalid_redirect_uri', `${problem}: ${uri}`);
  }

  for (const name of STRING_MEMBERS) {
    if (input[name] !== undefined && typeof input[name] !== 'string') {
      throw new ClientMetadataError('invalid_client_metadata', `${name} must be a string`);
    }
  }
  if (input.contacts !== undefined && !isStringArray(input.contacts)) {
    throw new ClientMetadataError('invalid_client_metadata', 'contacts must be an array of strings');
  }

  // RFC 7591 §2: the default is client_secret_basic; a metadata document has no secret, so `none`.
  const authMethod = input.token_endpoint_auth_method ?? (kind === 'cimd' ? 'none' : 'client_secret_basic');
  if (typeof authMethod !== 'string' || !(AUTH_METHODS as readonly string[]).includes(authMethod)) {
    throw new ClientMetadataError(
      'invalid_client_metadata',
      `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`,
    );
  }

  // RFC 7591 §2: default ["authorization_code"]; this AS supports only the code and refresh grants.
  const grantTypes = input.grant_types ?? ['authorization_code'];
  if (
    !isStringArray(grantTypes) ||
    grantTypes.length === 0 ||
    grantTypes.some((g) => !GRANT_TYPES.includes(g))
  ) {
    throw new ClientMetadataError(
      'invalid_client_metadata',
      `grant_types must be a non-empty array drawn from ${GRANT_TYPES.join(', ')}`,
    );
  }
  if (!grantTypes.includes('authorization_code')) {
    throw new ClientMetadataError('invalid_client_metadata', 'grant_types must include authorization_code');
  }

  // RFC 7591 §2: default ["code"]; §2.1: response_types and grant_types must be consistent, and
  // OAuth 2.1 has no other response type.
  const responseTypes = input.response_types ?? ['code'];
  if (!isStringArray(responseTypes)) {
    throw new ClientMetadataError('invalid_client_metadata', 'response_types must be an array of strings');
  }
  // Fault: response types other than "code" (e.g. the implicit "token") are registered and echoed.
  if (
    !ctx.fault('as-dcr-metadata-unchecked') &&
    (responseTypes.length !== 1 || responseTypes[0] !== 'code')
  ) {
    throw new ClientMetadataError('invalid_client_metadata', 'response_types must be ["code"]');
  }

  // OIDC Registration §2: application_type defaults to "web". MCP 2026-07-28 §Application Type asks
  // native (desktop, CLI) clients to say "native"; a "web" client with a loopback http redirect is
  // accepted here as well (OIDC would refuse it; MCP does not require that, and refusing would
  // break clients that omit application_type), so both combinations register.
  const applicationType = input.application_type ?? 'web';
  if (applicationType !== 'web' && applicationType !== 'native') {
    throw new ClientMetadataError('invalid_client_metadata', 'application_type must be "native" or "web"');
  }

  // Fault: a native client with a loopback http redirect URI is refused, although MCP 2026-07-28
  // §Application Type tells exactly those clients to register as native (RFC 8252 §7.3).
  if (
    kind === 'dcr' &&
    applicationType === 'native' &&
    redirectUris.some((u) => u.startsWith('http://')) &&
    ctx.fault('as-dcr-native-loopback-refused')
  ) {
    throw new ClientMetadataError('invalid_redirect_uri', 'native clients may not use http redirect URIs');
  }

  // Variant no-refresh-tokens: the refresh_token grant is replaced away (RFC 7591 §3.2.1: the AS
  // "MAY reject or replace any of the client's requested metadata values"); the response echoes it.
  const granted = ctx.variant('no-refresh-tokens')
    ? grantTypes.filter((g) => g !== 'refresh_token')
    : grantTypes;
  const metadata: ClientMetadata = {
    redirect_uris: [...redirectUris],
    token_endpoint_auth_method: authMethod as ClientMetadata['token_endpoint_auth_method'],
    grant_types: [...granted],
    response_types: [...responseTypes],
    application_type: applicationType,
  };
  for (const name of STRING_MEMBERS) {
    const value = input[name];
    if (typeof value === 'string') metadata[name] = value;
  }
  if (isStringArray(input.contacts)) metadata.contacts = [...input.contacts];
  return metadata;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
