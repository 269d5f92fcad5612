// The provenant CLI as the demo uses it: one journal per service, read together.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';

const CLI = join(dirname(createRequire(import.meta.url).resolve('provenant/package.json')), 'dist', 'cli', 'main.js');

/** Run `provenant <args> --json` over `stateDirs`; resolves with the exit code and parsed output. */
export function provenantJson(node, args, stateDirs) {
  const argv = [CLI, ...args, '--json', ...stateDirs.flatMap((dir) => ['--state', dir])];
  return new Promise((resolve, reject) => {
    execFile(node, argv, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? error.code : 0;
      if (typeof code !== 'number') return reject(error);
      try {
        resolve({ code, json: JSON.parse(stdout) });
      } catch {
        reject(new Error(`provenant ${args.join(' ')} printed no JSON (exit ${code}): ${stderr || stdout}`));
      }
    });
  });
}
