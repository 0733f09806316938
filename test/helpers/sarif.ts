// A real SARIF 2.1.0 validator for tests: the OASIS JSON Schema (the copy @microsoft/jest-sarif
// ships, draft-04, hence ajv-draft-04) plus the rules GitHub code scanning adds on upload.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import AjvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';

// Both are CommonJS modules whose `default` export is the real one.
const Ajv = AjvDraft04.default;
const addFormats = ajvFormats.default;
const require = createRequire(import.meta.url);
const schema = JSON.parse(
  readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
) as object;
// unicodeRegExp: false: one pattern of the published schema is not a valid `u`-flag regex.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validateSchema = ajv.compile(schema);

interface SarifLike {
  runs?: {
    tool?: { driver?: { rules?: { id: string }[] } };
    results?: {
      ruleId?: string;
      ruleIndex?: number;
      partialFingerprints?: Record<string, string>;
      locations?: { physicalLocation?: { artifactLocation?: { uri?: string } } }[];
    }[];
  }[];
}

/** Problems with a SARIF document; empty when GitHub code scanning would accept it. */
export function sarifProblems(doc: unknown): string[] {
  const problems: string[] = [];
  if (!validateSchema(doc)) {
    for (const e of validateSchema.errors ?? [])
      problems.push(`schema: ${e.instancePath || '/'} ${e.message}`);
  }
  for (const run of (doc as SarifLike).runs ?? []) {
    const rules = run.tool?.driver?.rules ?? [];
    for (const [i, result] of (run.results ?? []).entries()) {
      if (result.ruleIndex !== undefined && rules[result.ruleIndex]?.id !== result.ruleId) {
        problems.push(`results[${i}]: ruleIndex does not point at rule ${result.ruleId}`);
      }
      if (!result.partialFingerprints || Object.keys(result.partialFingerprints).length === 0) {
        problems.push(`results[${i}]: no partialFingerprints`);
      }
      for (const location of result.locations ?? []) {
        const uri = location.physicalLocation?.artifactLocation?.uri ?? '';
        // github/codeql-action#754: an artifact URI with a scheme other than file rejects the upload.
        if (/^[a-z][a-z0-9+.-]*:/i.test(uri) && !uri.startsWith('file:')) {
          problems.push(`results[${i}]: artifact URI ${uri} is not a file`);
        }
        if (uri.startsWith('/') || uri.includes('..'))
          problems.push(`results[${i}]: ${uri} is not repository-relative`);
      }
    }
  }
  return problems;
}
