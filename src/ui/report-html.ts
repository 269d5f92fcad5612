/**
 * The evidence report as one self-contained HTML page: inline style, inline SVG charts, no
 * script and nothing fetched, so it reads the same offline, archived or printed to PDF.
 */
import type { JournalRecord } from '../journal/format.js';
import type { Problem } from '../journal/verify.js';
import type { Evidence } from './evidence.js';

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function table(id: string, head: string[], rows: string[][]): string {
  if (rows.length === 0) return `<p class="none" id="${id}">None in this period.</p>`;
  return `<table id="${id}"><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Horizontal bars, allowed (blue) then denied (red) for each row, as inline SVG. */
function barChart(id: string, rows: { name: string; allowed: number; denied: number }[]): string {
  if (rows.length === 0) return '';
  const max = Math.max(1, ...rows.map((r) => r.allowed + r.denied));
  const rowHeight = 20;
  const labelWidth = 300;
  const barWidth = 360;
  const height = rows.length * rowHeight + 24;
  const scale = (n: number): number => (barWidth * n) / max;
  const bars = rows
    .map((r, i) => {
      const y = i * rowHeight;
      return [
        `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escape(r.name)}</text>`,
        `<rect class="allowed" x="${labelWidth}" y="${y + 3}" width="${scale(r.allowed)}" height="14"/>`,
        `<rect class="denied" x="${labelWidth + scale(r.allowed)}" y="${y + 3}" width="${scale(r.denied)}" height="14"/>`,
        `<text x="${labelWidth + scale(r.allowed + r.denied) + 4}" y="${y + 14}">${r.allowed}${r.denied > 0 ? ` + ${r.denied} denied` : ''}</text>`,
      ].join('');
    })
    .join('');
  const legendY = rows.length * rowHeight + 16;
  return `<svg id="${id}" class="chart" role="img" width="${labelWidth + barWidth + 120}" height="${height}" viewBox="0 0 ${labelWidth + barWidth + 120} ${height}">${bars}<rect class="allowed" x="${labelWidth}" y="${legendY - 10}" width="10" height="10"/><text x="${labelWidth + 14}" y="${legendY}">allowed (incl. audit violations)</text><rect class="denied" x="${labelWidth + 220}" y="${legendY - 10}" width="10" height="10"/><text x="${labelWidth + 234}" y="${legendY}">denied</text></svg>`;
}

function byRule(records: JournalRecord[]): { name: string; allowed: number; denied: number }[] {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.rule ?? '(none)', (counts.get(r.rule ?? '(none)') ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([name, denied]) => ({ name, allowed: 0, denied }));
}

function problemText(p: Problem): string {
  return `${p.file}${p.seq === null ? '' : ` seq ${p.seq}`}: ${p.message}`;
}

function decisionRows(records: JournalRecord[]): string[][] {
  return records.map((r) => [r.time, r.service, r.rule ?? '', r.reason ?? '', r.resource, r.user ?? '', r.traceId ?? '']);
}

const STYLE = `body{font:13px/1.45 system-ui,sans-serif;color:#222;max-width:1100px;margin:24px auto;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border-bottom:1px solid #e4e4e4;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f4f4f6;white-space:nowrap}.ok{color:#187a2f;font-weight:600}.failed{color:#c0262d;font-weight:600}.none{color:#777}
code,pre{font-family:ui-monospace,monospace;font-size:12px}pre{background:#f6f6f8;padding:8px;overflow-x:auto}
.chart text{font-size:11px;fill:#333}.chart .allowed{fill:#5b8bd6}.chart .denied{fill:#d62728}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{color:#666}
@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}`;

export function renderReport(evidence: Evidence): string {
  const { verify } = evidence;
  const period = `${evidence.since ?? 'the first record'} to ${evidence.until ?? 'the last record'}`;
  const services = [...new Set(verify.segments.map((s) => s.service ?? '?'))].sort();
  const stateArgs = evidence.stateDirs.map((d) => `--state ${d}`).join(' ');
  const window = [evidence.since ? `--since ${evidence.since}` : '', evidence.until ? `--until ${evidence.until}` : '']
    .filter(Boolean)
    .join(' ');
  const flowRows = evidence.flows.counts.map((c) => ({
    name: `${c.label} → ${c.destination}`,
    allowed: c.allowed + c.violation,
    denied: c.denied,
  }));
  const sections = [
    `<h1>provenant evidence report</h1>`,
    `<h2>Scope and period</h2><dl id="scope"><dt>Period</dt><dd>${escape(period)}</dd><dt>Journals</dt><dd>${escape(evidence.stateDirs.join(', '))}</dd><dt>Services</dt><dd>${escape(services.join(', ') || '—')}</dd><dt>Generated</dt><dd>${escape(evidence.generated)}</dd></dl>`,
    `<h2>Journals and verification</h2><p id="verification" class="${verify.ok ? 'ok' : 'failed'}">${verify.ok ? 'VERIFIED' : 'FAILED'}: ${verify.segments.length} segment(s), ${verify.records} record(s), ${verify.failures.length} failure(s), ${verify.warnings.length} warning(s); ${evidence.publicKey ? 'every checkpoint checked against the pinned public key' : 'no public key pinned (signatures checked against each segment header key)'}; ${evidence.witnesses > 0 ? `${evidence.witnesses} witness checkpoint(s) checked` : 'no witness checkpoints given'}.</p>`,
    table(
      'segments',
      ['segment', 'service', 'pid', 'seq', 'checkpoints', 'signing key', 'closed', 'status', 'SHA-256 of file'],
      verify.segments.map((s) => [
        s.file,
        s.service ?? '?',
        String(s.pid ?? '?'),
        s.firstSeq === null ? '—' : `${s.firstSeq}–${s.lastSeq ?? s.firstSeq}`,
        String(s.checkpoints),
        s.vkey === null ? 'unsigned' : s.vkey.slice(0, s.vkey.lastIndexOf('+')),
        s.closed ? 'yes' : 'no',
        s.status,
        evidence.segmentDigests[s.path] ?? '',
      ]),
    ),
    ...verify.failures.map((p) => `<p class="problem failed">${escape(`FAIL ${problemText(p)}`)}</p>`),
    ...verify.warnings.map((p) => `<p class="problem">${escape(`warn ${problemText(p)}`)}</p>`),
    `<h2>Flows of each tag by destination</h2><p>Writes, copies and moves in the period, by the data's tags (or confidentiality when untagged) and by destination: the node of a file, the host of an endpoint, the peer service. The journal records the data's labels, not the destination's.</p>`,
    barChart('flows-chart', flowRows),
    table(
      'flows',
      ['label', 'destination', 'allowed', 'audit violations', 'denied'],
      evidence.flows.counts.map((c) => [c.label, c.destination, String(c.allowed), String(c.violation), String(c.denied)]),
    ),
    `<h2>Denials</h2><p>${evidence.denials.length} flow(s) denied before any byte moved.</p>`,
    barChart('denials-chart', byRule(evidence.denials)),
    table('denials', ['time', 'service', 'rule', 'reason', 'destination', 'user', 'trace'], decisionRows(evidence.denials)),
    `<h2>Audit-mode violations</h2>`,
    table('violations', ['time', 'service', 'rule', 'reason', 'destination', 'user', 'trace'], decisionRows(evidence.violations)),
    `<h2>Revocations and their effect</h2><p>${evidence.revocations.length} flow(s) of data derived from a revoked resource were denied, wherever the copy was.</p>`,
    table('revocations', ['time', 'service', 'rule', 'reason', 'destination', 'user', 'trace'], decisionRows(evidence.revocations)),
    `<h2>Policy versions</h2><p>The journal records each decision and its rule but not which policy file decided it; the operator named these files as the policies in force (SHA-256 of their content when the report was made).</p>`,
    table(
      'policies',
      ['policy file', 'SHA-256'],
      evidence.policies.map((p) => [p.file, p.sha256]),
    ),
    `<h2>Method: how to re-verify</h2><p>Each record is a leaf of its segment's RFC 9162 Merkle tree; checkpoints state tree size and root (Ed25519-signed when a journal key is configured). With the same files:</p><pre id="method">${escape(
      [
        `sha256sum ${verify.segments.map((s) => s.path).join(' ')}   # equal to the digests above`,
        `npx provenant verify ${stateArgs}${evidence.publicKey ? ' --key PUBLIC_KEY.pem' : ''}${evidence.witnesses > 0 ? ' --witness WITNESSES.jsonl' : ''}`,
        `npx provenant query ${stateArgs} --decision deny ${window}`.trim(),
        `npx provenant stats ${stateArgs} ${window}`.trim(),
        ...evidence.policies.map((p) => `sha256sum ${p.file}`),
      ].join('\n'),
    )}</pre>`,
  ];
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>provenant evidence report ${escape(period)}</title><style>${STYLE}</style></head><body>${sections.join('\n')}</body></html>\n`;
}
