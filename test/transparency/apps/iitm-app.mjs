// An ESM app whose modules import-in-the-middle wraps (as OpenTelemetry's instrumentations do):
// a CJS package (express) and a built-in, imported after the hooks, and one of the app's own ES
// modules, loaded through the same hook thread.
import { Hook } from 'import-in-the-middle';

const seen = [];
Hook(['express', 'node:os'], (exported, name) => {
  seen.push(name);
  return exported;
});

const express = await import('express');
const os = await import('node:os');
const own = await import('./iitm-module.mjs');
console.log(JSON.stringify({ seen: seen.sort(), router: typeof express.default.Router, eol: os.EOL.length, greet: own.greet() }));
