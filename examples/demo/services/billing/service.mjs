// billing: serves its tariffs and takes usage figures and invoices. It counts every connection,
// request and body byte it receives, so the demo can show what a denied flow did not send.
import { readFile } from 'node:fs/promises';
import { acceptJobs, readBody, sendJson, serveHttp } from '../common.mjs';

const received = { connections: 0, requests: 0, bytes: 0 };

async function take(req, res) {
  const body = await readBody(req);
  received.bytes += body.length;
  sendJson(res, 202, { received: body.length });
}

const server = await serveHttp({
  'GET /tariffs': async (_req, res, [year = '']) => {
    if (!/^\d{4}$/.test(year)) return sendJson(res, 404, { error: 'no such tariff sheet' });
    sendJson(res, 200, JSON.parse(await readFile(`data/tariffs/${year}.json`, 'utf8')));
  },
  'POST /usage': take,
  'POST /invoices': take,
});
server.on('connection', () => received.connections++);
server.on('request', () => received.requests++);

acceptJobs({ received: () => ({ ...received }) });
