// An ES module app using named imports of node:fs, with no provenant code in its data path.
// Run it with `node --import provenant/register app.mjs`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { current } from 'provenant';

const here = new URL('.', import.meta.url);
const rows = readFileSync(new URL('data/salaries.csv', here), 'utf8').trim().split('\n').slice(1);
const byTeam = {};
for (const row of rows) {
  const [, team, salary] = row.split(',');
  (byTeam[team] ??= []).push(Number(salary));
}
const summary = Object.entries(byTeam).map(
  ([team, s]) => `${team}: ${s.length} people, mean ${Math.round(s.reduce((a, b) => a + b) / s.length)} EUR`,
);
console.log(`read data/salaries.csv; this data is now labelled ${JSON.stringify(current().labels)}`);

mkdirSync(new URL('internal/', here), { recursive: true });
mkdirSync(new URL('public/', here), { recursive: true });

// Allowed: confidential data into a confidential folder.
writeFileSync(new URL('internal/summary.txt', here), summary.join('\n') + '\n');
console.log('wrote internal/summary.txt');

// Denied: the same data into the public folder. The file is not created.
try {
  writeFileSync(new URL('public/summary.txt', here), summary.join('\n') + '\n');
  console.log('wrote public/summary.txt');
} catch (error) {
  console.log(`public/summary.txt: ${error.code} (rule ${error.rule}): ${error.reason}`);
}
