/** JSON Schema (2020-12) of provenant's custom OpenLineage facets, as the README publishes it. */
const base = { $ref: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/BaseFacet' };

export const CUSTOM_FACETS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:provenant:openlineage:custom-facets:1',
  $defs: {
    OutputFlowFacet: {
      allOf: [
        base,
        {
          type: 'object',
          properties: {
            decision: { enum: ['allow', 'violation'] },
            rule: { type: 'string' },
            reason: { type: 'string' },
            policy: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
            records: { type: 'integer', minimum: 1 },
          },
          required: ['decision', 'records'],
        },
      ],
    },
    RunFlowFacet: {
      allOf: [
        base,
        {
          type: 'object',
          properties: {
            service: { type: 'string' },
            node: { type: 'string' },
            traceId: { type: 'string', pattern: '^[0-9a-f]{32}$' },
            user: { type: 'string' },
            denials: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  destination: { type: 'string' },
                  rule: { type: 'string' },
                  reason: { type: 'string' },
                  time: { type: 'string', format: 'date-time' },
                  policy: { type: 'string' },
                },
                required: ['destination', 'rule', 'reason', 'time'],
              },
            },
          },
          required: ['service', 'node', 'denials'],
        },
      ],
    },
  },
} as const;
