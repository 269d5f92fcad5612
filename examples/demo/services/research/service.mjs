// research: runs studies on data from the other two services and keeps the reports
// (reports/, relative to its working directory). It serves nothing; the driver starts jobs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { current } from 'provenant';
import { acceptJobs, fetchJson } from '../common.mjs';

const REPORT = 'reports/diabetes-2026.json';

async function runStudy() {
  // A request carries its context's labels: ask the US service before patient data enters it.
  const tariffs = await fetchJson(`${process.env.BILLING_URL}/tariffs/2026`);
  const cohort = await fetchJson(`${process.env.CLINIC_URL}/cohorts/diabetes-2026`);
  if (cohort.status !== 200) return { refused: { status: cohort.status, rule: cohort.body.rule, reason: cohort.body.reason } };
  const patients = cohort.body.patients;
  const mean = (values) => Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100;
  const report = {
    study: 'diabetes-2026',
    patients: patients.length,
    meanHba1c: mean(patients.map((p) => p.hba1c)),
    costPerPatient: mean(patients.map((p) => p.visits * tariffs.body.consultation)),
    currency: tariffs.body.currency,
  };
  await mkdir('reports', { recursive: true });
  await writeFile(REPORT, JSON.stringify(report, null, 2));
  return { file: REPORT, ...report, labels: current().labels };
}

/** The ethics board's archive: a copy of the report under published/. */
async function publishReport() {
  await mkdir('published', { recursive: true });
  await writeFile('published/diabetes-2026.json', await readFile(REPORT));
  return { file: 'published/diabetes-2026.json' };
}

acceptJobs({ 'run-study': runStudy, 'publish-report': publishReport });
