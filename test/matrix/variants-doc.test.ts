// docs/VARIANTS.md is generated from the variant catalogue; it must be current.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VARIANTS } from '../../reference-server/variants.ts';
import { renderVariantsDoc, VARIANTS_DOC } from '../../scripts/gen-variants-doc.ts';

describe('docs/VARIANTS.md', () => {
  it('is what "npm run docs:variants" writes (regenerate it after changing a variant)', () => {
    expect(readFileSync(VARIANTS_DOC, 'utf8')).toBe(renderVariantsDoc());
  });

  it('lists every variant with the sentences that make it legal', () => {
    const doc = renderVariantsDoc();
    for (const v of VARIANTS) {
      expect(doc).toContain(`## ${v.name}\n`);
      for (const s of v.spec) expect(doc).toContain(`${s.source} §${s.section}`);
    }
    expect(doc).toContain('--variant public-handshake --spec REV --expect-public initialize,tools/list');
  });
});
