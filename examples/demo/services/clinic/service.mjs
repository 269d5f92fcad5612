// clinic: holds patient records (data/patients, relative to its working directory).
// Jobs: extract a pseudonymised diabetes cohort, send usage figures and invoices to billing.
// HTTP: GET /cohorts/<name> for research, PUT /patients/<id> for record updates.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acceptJobs, describe, fetchJson, readBody, sendJson, serveHttp } from '../common.mjs';

const PATIENTS = 'data/patients';
const BILLING = process.env.BILLING_URL;

const cohortFile = (name) => `exports/cohort-${name}.json`;

async function readPatient(id) {
  return JSON.parse(await readFile(join(PATIENTS, `${id}.json`), 'utf8'));
}

/** Type 2 diabetes patients (ICD-10 E11.*), without names or insurance numbers. */
async function extractCohort() {
  const ids = (await readdir(PATIENTS))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
  const cohort = [];
  for (const id of ids) {
    const p = await readPatient(id);
    if (!p.diagnoses.some((code) => code.startsWith('E11'))) continue;
    const pseudonym = createHash('sha256').update(`cohort-2026:${p.id}`).digest('hex').slice(0, 12);
    cohort.push({ pseudonym, bornYear: Number(p.born.slice(0, 4)), hba1c: p.hba1c.at(-1), visits: p.visits });
  }
  const file = cohortFile('diabetes-2026');
  await mkdir('exports', { recursive: true });
  const text = JSON.stringify({ cohort: 'diabetes-2026', patients: cohort }, null, 2);
  await writeFile(file, text);
  return { file, patients: cohort.length, bytes: Buffer.byteLength(text) };
}

async function postToBilling(path, value) {
  const { status } = await fetchJson(`${BILLING}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(value),
  });
  return { status };
}

await serveHttp({
  'GET /cohorts': async (_req, res, [name = '']) => {
    if (!/^[\w-]+$/.test(name)) return sendJson(res, 404, { error: 'no such cohort' });
    sendJson(res, 200, JSON.parse(await readFile(cohortFile(name), 'utf8')));
  },
  // Record updates from anyone who can reach the clinic: provenant decides what may be written.
  'PUT /patients': async (req, res, [id]) => {
    const body = await readBody(req);
    try {
      await writeFile(join(PATIENTS, `${id}.json`), body);
      res.writeHead(204).end();
    } catch (error) {
      sendJson(res, 403, describe(error));
    }
  },
});

acceptJobs({
  'extract-cohort': extractCohort,
  'send-usage': async () => postToBilling('/usage', JSON.parse(await readFile('data/usage/2026-11.json', 'utf8'))),
  'send-invoice': async ({ patient }) => {
    const p = await readPatient(patient);
    return postToBilling('/invoices', { patient: p.name, insurance: p.insurance, visits: p.visits });
  },
});
