'use strict';
// graceful-fs's tests replace process.chdir before anything loads worker_threads: Node wraps
// whatever process.chdir is when worker_threads first loads.
const mine = function chdir(dir) {
  return original.call(process, dir);
};
const original = process.chdir;
process.chdir = mine;
const before = process.chdir === mine;
require('node:worker_threads');
process.chdir(__dirname);
console.log(JSON.stringify({ before, wrappedByNode: process.chdir !== mine, cwd: process.cwd() === __dirname }));
