// What the three demo services share: a tiny JSON-over-HTTP router, and the "jobs" the demo
// driver asks for over the IPC channel (the operator's console, outside the data plane).
// Each job runs in its own provenant flow context, on behalf of a named user.
import http from 'node:http';
import { run, isProvenanceDenied } from 'provenant';

/** Serve `routes` ({ 'GET /tariffs': handler }) on $PORT; resolves once listening. */
export function serveHttp(routes) {
  const server = http.createServer(async (req, res) => {
    const [, first = '', ...rest] = new URL(req.url, 'http://local').pathname.split('/');
    const handler = routes[`${req.method} /${first}`];
    if (!handler) return sendJson(res, 404, { error: 'not found' });
    try {
      await handler(req, res, rest);
    } catch (error) {
      sendJson(res, 500, describe(error));
    }
  });
  return new Promise((resolve) => server.listen(Number(process.env.PORT), '127.0.0.1', () => resolve(server)));
}

/** Answer the driver's job requests: { id, job, args, user } → { id, result } | { id, error }. */
export function acceptJobs(jobs) {
  process.on('message', async ({ id, job, args = {}, user }) => {
    try {
      const result = await run(() => jobs[job](args), { user });
      process.send({ id, result });
    } catch (error) {
      process.send({ id, error: describe(error) });
    }
  });
  process.send({ ready: true });
}

/** A denial as plain data (fetch wraps it: the ProvenanceDeniedError is its `cause`). */
export function describe(error) {
  const denial = isProvenanceDenied(error) ? error : isProvenanceDenied(error?.cause) ? error.cause : undefined;
  if (denial) return { denied: { rule: denial.rule, reason: denial.reason, destination: denial.destination } };
  return { message: String(error?.message ?? error) };
}

export async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** fetch, returning { status, body } with the body parsed as JSON. */
export async function fetchJson(url, init) {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
}
