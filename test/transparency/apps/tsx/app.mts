// A TypeScript app as tsx runs it (`node --import tsx app.mts`: tsx's async module.register hooks
// compile TypeScript on load): types, an enum, a .ts module imported as ESM, files and a worker-free
// round trip through fs/promises. argv[2]: a directory of the run's own.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summarise, Unit, type Reading } from './readings.mts';

const dir = process.argv[2] ?? '.';
const readings: Reading[] = [
  { patient: 'p1', value: 8.1, unit: Unit.Percent },
  { patient: 'p2', value: 64, unit: Unit.MmolPerMol },
];
const file = join(dir, 'readings.json');
await writeFile(file, JSON.stringify(readings));
const back = JSON.parse(await readFile(file, 'utf8')) as Reading[];
console.log(summarise(back));
