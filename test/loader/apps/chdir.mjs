// The ESM twin of chdir.cjs: the first load is an import.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const original = process.chdir;
const mine = (dir) => original.call(process, dir);
process.chdir = mine;
const { isMainThread } = await import('node:worker_threads');
const here = path.dirname(fileURLToPath(import.meta.url));
process.chdir(here);
console.log(JSON.stringify({ isMainThread, wrappedByNode: process.chdir !== mine, cwd: process.cwd() === here }));
