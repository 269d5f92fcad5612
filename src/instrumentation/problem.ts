/** The body of a response withheld by policy (HTTP/1 and HTTP/2 alike): RFC 9457 problem+json. */
export interface DenialFields {
  readonly rule?: string;
  readonly reason?: string;
  readonly destination?: string;
}

export const PROBLEM_TYPE = 'application/problem+json';

export function deniedProblem(error: DenialFields): string {
  return JSON.stringify({
    type: 'urn:provenant:problem:flow-denied',
    title: 'Response withheld by provenance policy',
    status: 403,
    detail: error.reason,
    rule: error.rule,
    reason: error.reason,
    destination: error.destination,
  });
}
