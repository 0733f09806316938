// The MCP surface of the reference server: a few tools, one resource and one prompt that make
// the authorization rules observable. Built with the official SDK's McpServer; one factory backs
// every revision (2026-07-28 per request, 2025 sessions and stateless fallback).
//
// Scopes are NOT checked here: the HTTP layer (scopes.ts) does it before the SDK sees the request,
// so that a missing scope is an HTTP 403 challenge. The tools only read the verified identity.

import { randomBytes } from 'node:crypto';
import {
  acceptedContent,
  type AuthInfo,
  createRequestStateCodec,
  inputRequired,
  McpServer,
  type ServerContext as McpRequestContext,
} from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { ServerContext } from '../context.ts';

/** Notes written by write_note, newest last; bounded so a client cannot grow memory without limit. */
export class NoteBook {
  static readonly MAX_NOTES = 100;
  private readonly notes: { text: string; by: string }[] = [];
  add(text: string, by: string): number {
    this.notes.push({ text, by });
    if (this.notes.length > NoteBook.MAX_NOTES) this.notes.shift();
    return this.notes.length;
  }
  all(): readonly { text: string; by: string }[] {
    return this.notes;
  }
}

/** The identity the tools see: from the token the HTTP layer verified, or none (public methods). */
export function identityOf(
  authInfo: AuthInfo | undefined,
): { sub: string; client_id: string; scopes: string[] } | null {
  if (authInfo === undefined) return null;
  const sub = typeof authInfo.extra?.sub === 'string' ? authInfo.extra.sub : '';
  return { sub, client_id: authInfo.clientId, scopes: [...authInfo.scopes] };
}

// Schemas are built once: the SDK builds a server per request, and rebuilding them each time
// cost about 12% of a tools/call (bench/mcp-throughput.ts).
const ECHO_INPUT = withMemoizedJsonSchema(z.object({ text: z.string().max(4096) }));
const NOTE_INPUT = withMemoizedJsonSchema(z.object({ text: z.string().min(1).max(1024) }));
const GREET_ARGS = withMemoizedJsonSchema(z.object({ name: z.string().max(200) }));
/** What read_my_notes asks before it answers (an embedded form elicitation). */
const CONFIRM = z.object({ confirm: z.boolean() });

/**
 * The requestState of read_my_notes: whose notes the confirmed round reads. It influences resource
 * access, so it is integrity-protected and bound to the user (MCP 2026-07-28 basic/patterns/mrtr
 * §Server Requirements; Security Best Practices §State Handle Hijacking).
 */
interface NotesState {
  owner: string;
}

/** How a round's echoed requestState is checked before the handler runs, and how it is minted. */
export interface NotesStateGuard {
  mint(state: NotesState, request: McpRequestContext): Promise<string>;
  /** `ServerOptions.requestState.verify`: throws to refuse (the SDK answers -32602). */
  verify(wire: string, request: McpRequestContext): Promise<NotesState>;
}

/**
 * One HMAC codec per server start (the SDK's createRequestStateCodec): a random 256-bit key, a
 * 5-minute lifetime, and a binding to the verified subject, so state minted for alice is refused
 * when bob (or a tampered copy) echoes it.
 */
export function createNotesStateGuard(ctx: ServerContext): NotesStateGuard {
  const codec = createRequestStateCodec<NotesState>({
    key: randomBytes(32),
    ttlSeconds: 300,
    bind: (request) => subjectOf(request.http?.authInfo),
  });
  // The fault decodes the state without checking its MAC, expiry or binding: whoever holds (or
  // edits) a state handle gets the owner it names.
  if (ctx.fault('rs-request-state-unverified')) return { mint: codec.mint, verify: decodeUnverified };
  return { mint: codec.mint, verify: codec.verify };
}

/** The payload of a codec wire string (`v1.<body>.<mac>`) read without any verification. */
async function decodeUnverified(wire: string): Promise<NotesState> {
  const body = wire.split('.')[1] ?? '';
  const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { p?: NotesState };
  if (typeof parsed.p?.owner !== 'string') throw new Error('malformed');
  return parsed.p;
}

function subjectOf(authInfo: AuthInfo | undefined): string {
  return identityOf(authInfo)?.sub ?? '';
}

/**
 * Makes the schema's Standard JSON Schema conversion (`~standard.jsonSchema.input/output`) compute
 * once per (io, target) and return the same frozen document afterwards. The SDK caches the
 * conversion per McpServer instance only, so with one instance per request every 2026-07-28
 * `tools/call` converted the tool's zod schema again (its pre-dispatch `Mcp-Param-*` check reads
 * `toolInputSchemaJson`), about 45 µs of CPU per call. Validation still runs zod itself; the
 * JSON Schema the SDK sees is the one zod produces, only not recomputed. Frozen, so any code that
 * tried to mutate the shared document would throw instead of changing later answers.
 */
function withMemoizedJsonSchema<S extends z.ZodType>(schema: S): S {
  const standard = schema['~standard'];
  const convert = standard.jsonSchema;
  const cache = new Map<string, Record<string, unknown>>();
  const memoized =
    (io: 'input' | 'output') =>
    (params: Parameters<typeof convert.input>[0]): Record<string, unknown> => {
      if (params.libraryOptions !== undefined) return convert[io](params);
      const key = `${io} ${params.target}`;
      let document = cache.get(key);
      if (document === undefined) {
        document = deepFreeze(convert[io](params));
        cache.set(key, document);
      }
      return document;
    };
  // zod's `~standard` has a setter for exactly this (it stores an own property on the instance).
  schema['~standard'] = { ...standard, jsonSchema: { input: memoized('input'), output: memoized('output') } };
  return schema;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function buildMcpServer(notes: NoteBook, notesState: NotesStateGuard): McpServer {
  const server = new McpServer(
    { name: 'mcp-auth-conformance-reference', version: '0.1.0' },
    {
      capabilities: { tools: {}, resources: {}, prompts: {} },
      // Every echoed requestState is verified before any handler runs.
      requestState: { verify: (wire, request) => notesState.verify(wire, request) },
      // Multi-round-trip is a 2026-07-28 feature here: on a 2025 connection the SDK's shim would
      // send a real elicitation to the client and wait for it (up to 10 minutes); refuse instead.
      inputRequired: { legacyShim: false },
    },
  );

  server.registerTool(
    'echo',
    {
      description: 'Returns its input. Needs mcp:tools.',
      inputSchema: ECHO_INPUT,
      annotations: { readOnlyHint: true },
    },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );

  server.registerTool(
    'whoami',
    {
      description: 'Returns sub, client_id and scopes of the verified access token. Needs mcp:tools.',
      annotations: { readOnlyHint: true },
    },
    async (ctx) => {
      const identity = identityOf(ctx.http?.authInfo);
      const result = identity ?? { anonymous: true };
      return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
    },
  );

  server.registerTool(
    'write_note',
    {
      description: 'Stores a short note. Needs mcp:tools and mcp:write (the step-up scope).',
      inputSchema: NOTE_INPUT,
      annotations: { readOnlyHint: false, destructiveHint: false },
    },
    async ({ text }, ctx) => {
      const by = identityOf(ctx.http?.authInfo)?.sub ?? 'anonymous';
      const count = notes.add(text, by);
      return { content: [{ type: 'text', text: `stored note #${count}` }] };
    },
  );

  // MCP 2026-07-28 multi-round-trip: the first round answers input_required (a confirmation and a
  // requestState naming the caller); the retry carries the confirmation and the state back, and
  // reads the notes of the owner the verified state names.
  server.registerTool(
    'read_my_notes',
    {
      description:
        'Returns the notes the caller wrote, after a confirmation (a 2026-07-28 multi-round-trip request whose requestState is HMAC-protected and bound to the user). Needs mcp:tools.',
      annotations: { readOnlyHint: true },
    },
    async (ctx) => {
      const state = ctx.mcpReq.requestState<NotesState>();
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', CONFIRM);
      if (state === undefined || answer?.confirm !== true) {
        return inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({ message: 'Show your notes?', requestedSchema: CONFIRM }),
          },
          requestState: await notesState.mint({ owner: subjectOf(ctx.http?.authInfo) }, ctx),
        });
      }
      const mine = notes
        .all()
        .filter((note) => note.by === state.owner)
        .map((note) => note.text);
      const result = { owner: state.owner, notes: mine };
      return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
    },
  );

  server.registerResource(
    'notes',
    'notes://all',
    { description: 'Every note written with write_note (newest last).', mimeType: 'application/json' },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(notes.all()) }],
    }),
  );

  server.registerPrompt(
    'greet',
    { description: 'A greeting for a name.', argsSchema: GREET_ARGS },
    ({ name }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${name}.` } }],
    }),
  );

  return server;
}
