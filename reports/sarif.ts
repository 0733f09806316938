// report.sarif: SARIF 2.1.0 (OASIS) that GitHub code scanning accepts. One rule per check that ran
// (help URI = its first linkable spec section), one result per `fail` (level error) and per `warn`
// (level warning); checks the harness could not finish are tool notifications, not findings.
//
// What code scanning needs (and why the shape is what it is):
// - Locations are files in the repository: a result whose artifact URI is not a file (a URL with
//   another scheme) makes GitHub reject the whole upload (github/codeql-action#754). Findings are
//   about a running server, so they point at the repository file that configures the run
//   (--sarif-artifact, default the config file), line 1; the target URL is in a property bag.
// - Alerts are matched across runs by partialFingerprints: the check ID and the target's identity
//   without its port (an ephemeral port would make every run's alerts new).
// - A failure the baseline accepted is a result with an external suppression (and its reason), so
//   the upload says what the exit code says.

import { createHash } from 'node:crypto';
import type { Log, ReportingDescriptor, Result as SarifResult } from 'sarif';
import type { Report } from './json.ts';
import { primarySpecUrl } from './spec-links.ts';

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const INFORMATION_URI = 'https://www.npmjs.com/package/mcp-auth-conformance';
/** Used when a report predates --sarif-artifact. */
const DEFAULT_ARTIFACT = 'mcp-auth-conformance.config.json';
const FINGERPRINT_KEY = 'mcpAuthConformance/v1';

type SarifLevel = 'error' | 'warning' | 'note';

const LEVEL_OF_REQUIREMENT: Record<string, SarifLevel> = { MUST: 'error', SHOULD: 'warning', MAY: 'note' };
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * What stays the same between two runs against the same server: scheme, host and path, without
 * the port (loopback servers get a new one each run); loopback names are one host. The embedded
 * reference server is one identity whatever its URL.
 */
export function targetIdentity(report: Pick<Report, 'target' | 'embedded'>): string {
  if (report.embedded || report.target === null) return 'embedded-reference-server';
  if (!URL.canParse(report.target)) return report.target;
  const url = new URL(report.target);
  const host = LOOPBACK_HOSTS.has(url.hostname) ? 'loopback' : url.hostname.toLowerCase();
  return `${url.protocol}//${host}${url.pathname}`;
}

/** The stable fingerprint of one check's finding on one target. */
export function fingerprint(checkId: string, identity: string): string {
  return createHash('sha256').update(`${checkId}\n${identity}`).digest('hex').slice(0, 32);
}

export function renderSarif(report: Report): string {
  const rules: ReportingDescriptor[] = report.results.map((r) => {
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
  const artifact = report.options.sarifArtifact ?? DEFAULT_ARTIFACT;
  const identity = targetIdentity(report);
  const target = report.target ?? 'embedded reference server (not started)';
  const accepted = new Map(report.verdict.accepted.map((a) => [a.id, a]));
  const counted = new Set(report.verdict.counted.map((c) => c.id));

  const results: SarifResult[] = report.results
    .filter((r) => r.status === 'fail' || r.status === 'warn')
    .map((r) => {
      const acceptance = accepted.get(r.id);
      return {
        ruleId: r.id,
        ruleIndex: ruleIndex.get(r.id) ?? 0,
        level: r.status === 'fail' ? 'error' : 'warning',
        message: { text: `${r.title}: ${r.message}` },
        locations: [
          {
            physicalLocation: { artifactLocation: { uri: artifact }, region: { startLine: 1 } },
            logicalLocations: [{ name: r.id, kind: 'module', fullyQualifiedName: `${identity}#${r.id}` }],
          },
        ],
        partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(r.id, identity) },
        ...(acceptance
          ? {
              suppressions: [
                { kind: 'external', status: 'accepted', justification: `baseline: ${acceptance.reason}` },
              ],
            }
          : {}),
        properties: {
          status: r.status,
          requirementLevel: r.level,
          target,
          // Does this result count against the run (the verdict's exit code)?
          counted: counted.has(r.id),
          evidence: r.exchanges,
        },
      };
    });

  const notifications = [
    ...(report.runError ? [{ level: 'error' as const, message: { text: report.runError } }] : []),
    ...report.results
      .filter((r) => r.status === 'error')
      .map((r) => ({
        level: 'error' as const,
        message: { text: `${r.id} could not finish: ${r.message}` },
        associatedRule: { id: r.id, ...(ruleIndex.has(r.id) ? { index: ruleIndex.get(r.id)! } : {}) },
      })),
  ];

  const sarif: Log = {
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
        // One analysis per target and revision: a second target's upload does not replace the first's.
        automationDetails: { id: `mcp-auth-conformance/${slug(identity)}/${report.revision}/` },
        invocations: [
          {
            executionSuccessful: report.runError === undefined && report.verdict.exitCode !== 3,
            exitCode: report.verdict.exitCode,
            startTimeUtc: report.startedAt,
            ...(notifications.length > 0 ? { toolExecutionNotifications: notifications } : {}),
          },
        ],
        properties: {
          target,
          targetIdentity: identity,
          revision: report.revision,
          embedded: report.embedded,
          faults: report.faults,
          verdict: report.verdict.headline,
          certifiable: report.verdict.certifiable,
          failOn: report.verdict.failOn,
        },
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function slug(text: string): string {
  return (
    text
      .replace(/^[a-z]+:\/\//i, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'target'
  );
}
