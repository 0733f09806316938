// Random secrets, their storage hashes, and the PKCE transform.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A 256-bit random value, base64url (codes, refresh tokens, client secrets, CSRF tokens). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256, base64url: how codes, refresh tokens and client secrets are stored. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** Constant-time comparison of two strings (equal length required to be equal). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * RFC 7636 §4.1 / OAuth 2.1 §4.1.1 ABNF: `43*128unreserved`, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
 * The same syntax holds for `code_challenge` and `code_verifier`.
 */
export const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;
