/** Renders a lineage graph as text, Graphviz DOT or a Mermaid flowchart. */
import type { PublicLabels } from '../provenance/labels.js';
import type { Lineage } from '../journal/lineage.js';
import { confidentialityColour, lineageView, type LineageView, type ViewNode } from '../ui/lineage-view.js';

export function formatLabels(labels: PublicLabels | null): string {
  if (!labels) return 'unlabeled';
  const parts = [labels.confidentiality, labels.integrity];
  if (labels.tags.length > 0) parts.push(`tags=${labels.tags.join(',')}`);
  if (labels.locations.length > 0) parts.push(`loc=${labels.locations.join(',')}`);
  return parts.join(' ');
}

export function toText(lineage: Lineage): string {
  const lines = [`${lineage.direction} lineage of ${lineage.resource}`];
  if (lineage.nodes.length === 0) return lines.concat('  (no flows recorded for it)').join('\n');
  lines.push('', 'resources:');
  for (const node of lineage.nodes) lines.push(`  ${node.resource}  [${formatLabels(node.labels)}]`);
  lines.push('', 'flows:');
  if (lineage.edges.length === 0) lines.push('  (none)');
  for (const edge of lineage.edges)
    lines.push(`  ${edge.from} -> ${edge.to}  (${edge.time} ${edge.service}${edge.traceId ? ` trace ${edge.traceId}` : ''})`);
  return lines.join('\n');
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Groups of a view in a stable order, each with its nodes. */
function groups(view: LineageView): [string, ViewNode[]][] {
  const byGroup = new Map<string, ViewNode[]>();
  for (const node of view.nodes) byGroup.set(node.group, [...(byGroup.get(node.group) ?? []), node]);
  return [...byGroup].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

function tagText(labels: PublicLabels | null): string {
  if (!labels) return 'unlabeled';
  return [labels.confidentiality, labels.integrity, ...labels.tags].join(' · ');
}

/**
 * Short names in clusters per node or service, filled by confidentiality, the full URI as
 * tooltip; flows after transitive reduction; denied attempts as red dashed edges with the rule.
 */
export function toDot(lineage: Lineage): string {
  const view = lineageView([lineage]);
  const ids = new Map(view.nodes.map((node, i) => [node.id, `n${i}`]));
  const lines = [
    'digraph lineage {',
    // `size` shrinks a larger drawing to a landscape page (10 × 7.5 in); smaller ones stay as they are.
    '  rankdir=LR; nodesep=0.25; ranksep=0.5; size="10,7.5"; fontname="Helvetica";',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
  ];
  groups(view).forEach(([group, nodes], i) => {
    lines.push(`  subgraph cluster_${i} {`, `    label=${dotString(group)}; style=dashed; color="#999999"; fontsize=10;`);
    for (const node of nodes) {
      const attrs = [
        `label=${dotString(`${node.short}\n${tagText(node.labels)}`)}`,
        `tooltip=${dotString(node.id)}`,
        `fillcolor=${dotString(confidentialityColour(node.labels))}`,
      ];
      if (node.id === lineage.resource) attrs.push('penwidth=2');
      lines.push(`    ${ids.get(node.id)} [${attrs.join(', ')}];`);
    }
    lines.push('  }');
  });
  for (const edge of view.edges)
    lines.push(`  ${ids.get(edge.from)} -> ${ids.get(edge.to)} [label=${dotString(edge.services.join(', '))}];`);
  for (const denial of view.denials)
    lines.push(
      `  ${ids.get(denial.from)} -> ${ids.get(denial.to)} [style=dashed, color="#d62728", fontcolor="#d62728", label=${dotString(`denied: ${denial.rule ?? '?'}`)}];`,
    );
  lines.push('}');
  return lines.join('\n');
}

/** Mermaid ids must be plain words, so nodes are numbered and the URI goes in the quoted text. */
export function toMermaid(lineage: Lineage): string {
  const view = lineageView([lineage]);
  const ids = new Map(view.nodes.map((node, i) => [node.id, `n${i}`]));
  const text = (value: string): string => value.replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  groups(view).forEach(([group, nodes], i) => {
    lines.push(`  subgraph g${i}["${text(group)}"]`);
    for (const node of nodes) lines.push(`    ${ids.get(node.id)}["${text(node.short)}<br/>${text(tagText(node.labels))}"]`);
    lines.push('  end');
  });
  const levels = new Map<string, string[]>();
  for (const node of view.nodes) {
    const colour = confidentialityColour(node.labels);
    levels.set(colour, [...(levels.get(colour) ?? []), ids.get(node.id) ?? '']);
  }
  [...levels].forEach(([colour, members], i) =>
    lines.push(`  classDef c${i} fill:${colour},stroke:#555`, `  class ${members.join(',')} c${i}`),
  );
  for (const edge of view.edges) lines.push(`  ${ids.get(edge.from)} -->|${text(edge.services.join(', '))}| ${ids.get(edge.to)}`);
  view.denials.forEach((denial, i) => {
    lines.push(`  ${ids.get(denial.from)} -.->|"denied: ${text(denial.rule ?? '?')}"| ${ids.get(denial.to)}`);
    lines.push(`  linkStyle ${view.edges.length + i} stroke:#d62728,color:#d62728`);
  });
  return lines.join('\n');
}
