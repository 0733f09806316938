// docs/CHECKS.md is generated from the registry and the fault catalogue; it must be current.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHECKS_DOC, readSpecificity, renderChecksDoc } from '../../scripts/gen-checks-doc.ts';
import { CHECKS } from '../../suites/index.ts';

describe('docs/CHECKS.md', () => {
  it('is what "npm run docs:checks" writes (regenerate it after changing a check or a fault)', () => {
    const committed = readFileSync(CHECKS_DOC, 'utf8');
    expect(committed).toBe(renderChecksDoc(CHECKS, readSpecificity()));
  });

  it('lists every check and links its spec references', () => {
    const doc = renderChecksDoc(CHECKS);
    for (const check of CHECKS) expect(doc).toContain(`### ${check.id}: `);
    expect(doc).toMatch(/\[RFC9728 §3[^\]]*\]\(https:\/\/www\.rfc-editor\.org\/rfc\/rfc9728#section-3/);
  });

  it("shows each check's quoted sentences, linked, and its derived or conflict reason", () => {
    const doc = renderChecksDoc(CHECKS);
    const section = (id: string) => doc.slice(doc.indexOf(`### ${id}: `)).split('\n### ')[0]!;
    for (const check of CHECKS) {
      const text = section(check.id);
      for (const q of check.quotes ?? [])
        expect(text).toContain(`"${q.text.replace(/\|/g, '\\|').replace(/</g, '&lt;')}"`);
      if (check.derived !== undefined) expect(text).toContain('- **Derived:** ');
      if (check.conflict !== undefined) expect(text).toContain('- **Conflict:** ');
    }
    expect(section('RS-PRM-09')).toContain(
      '"Parameters with zero values MUST be omitted from the response." ([RFC 9728 §3.2](https://www.rfc-editor.org/rfc/rfc9728#section-3.2); MUST, resource server)',
    );
  });

  it("shows each check's control next to what it sends (issue #12)", () => {
    const doc = renderChecksDoc(CHECKS);
    const section = (id: string) => doc.slice(doc.indexOf(`### ${id}: `)).split('\n### ')[0]!;
    for (const check of CHECKS) expect(section(check.id)).toMatch(/\n- \*\*Control:\*\* \S/);
    expect(section('AS-PKCE-05')).toMatch(
      /- \*\*Sends:\*\* .*\n- \*\*Control:\*\* The same code redeemed with the right code_verifier/,
    );
    expect(section('AS-META-06')).toContain('- **Control:** None: ');
  });
});
