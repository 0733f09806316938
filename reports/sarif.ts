// report.sarif: SARIF 2.1.0 (OASIS), so GitHub code scanning and other SARIF viewers list the
// findings. One rule per check that ran (help URI = its first linkable spec section), one result per
// `fail` (level error) and per `warn` (level warning). The location is the target URL: findings are
// about a running server, not a file, so the artifact is the endpoint itself.

import type { Report } from './json.ts';
import { primarySpecUrl } from './spec-links.ts';

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const INFORMATION_URI = 'https://www.npmjs.com/package/mcp-auth-conformance';

type SarifLevel = 'error' | 'warning' | 'note';

const LEVEL_OF_REQUIREMENT: Record<string, SarifLevel> = { MUST: 'error', SHOULD: 'warning', MAY: 'note' };

export function renderSarif(report: Report): string {
  const rules = report.results.map((r) => {
    const helpUri = primarySpecUrl(r.refs);
    return {
      id: r.id,
      name: r.id.replace(/-/g, ''),
      shortDescription: { text: r.title },
      fullDescription: { text: r.requirement },
      ...(helpUri ? { helpUri } : {}),
      help: {
        text: `${r.requirement}\n\nFix: ${r.remediation}\n\nSpec: ${r.refs.join('; ')}`,
        markdown: `${r.requirement}\n\n**Fix:** ${r.remediation}\n\n**Spec:** ${r.refs.join('; ')}`,
      },
      defaultConfiguration: { level: LEVEL_OF_REQUIREMENT[r.level] ?? 'warning' },
      properties: { tags: ['mcp', 'oauth', 'authorization', r.level], requirementLevel: r.level },
    };
  });
  const ruleIndex = new Map(rules.map((rule, i) => [rule.id, i]));
  const location = report.target ?? 'about:embedded-reference-server';

  const results = report.results
    .filter((r) => r.status === 'fail' || r.status === 'warn')
    .map((r) => ({
      ruleId: r.id,
      ruleIndex: ruleIndex.get(r.id) ?? 0,
      level: (r.status === 'fail' ? 'error' : 'warning') as SarifLevel,
      message: { text: `${r.title}: ${r.message}` },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: location } },
          logicalLocations: [{ name: r.id, kind: 'module', fullyQualifiedName: `${location}#${r.id}` }],
        },
      ],
      partialFingerprints: { checkTarget: `${r.id}@${location}` },
      properties: { status: r.status, requirementLevel: r.level, evidence: r.exchanges },
    }));

  const sarif = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: report.tool.name,
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: INFORMATION_URI,
            rules,
          },
        },
        automationDetails: { id: `mcp-auth-conformance/${report.revision}/` },
        invocations: [
          {
            executionSuccessful: report.runError === undefined,
            startTimeUtc: report.startedAt,
            ...(report.runError
              ? { toolExecutionNotifications: [{ level: 'error', message: { text: report.runError } }] }
              : {}),
          },
        ],
        properties: { revision: report.revision, embedded: report.embedded, faults: report.faults },
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
