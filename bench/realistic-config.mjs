// The realistic provenant config the HTTP benches run with (README, Performance): labelled files
// under `data`, a PII residency rule, loopback peers trusted (with PROVENANT_KEY every response to
// a peer is signed), journal on. One text, so the benches measure the same config.

/** The YAML text; `journal` adds a `journal:` line (e.g. `{ repeatWindowMs: 0 }`). */
export function realisticConfig(data, journal) {
  return [
    'service: bench',
    'location: eu-west-1',
    'resources:',
    `  - match: { path: "${data}/**" }`,
    '    labels: { confidentiality: confidential, integrity: high, tags: [pii] }',
    '  - match: { host: "127.0.0.1" }',
    '    labels: { confidentiality: secret, location: eu-west-1 }',
    // a front calling a back as this service: the back answers it as service://bench
    '  - match: { service: bench }',
    '    labels: { confidentiality: secret, location: eu-west-1 }',
    'rules:',
    '  - id: pii-stays-in-eu',
    '    deny: { data: { tags: [pii] }, destination: { location: { notIn: [eu-west-1, eu-central-1] } } }',
    'trust: { peers: ["127.0.0.1"] }',
    ...(journal === undefined ? [] : [`journal: ${journal}`]),
    '',
  ].join('\n');
}
