// Installs a pinned npm package that ships its own tests, with the few test-time packages its
// tests require, into a cache folder (node_modules/.cache/provenant-suites/<name>@<version>):
// reruns reuse it. Nothing is vendored into this repository. Install scripts never run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const cacheRoot = path.resolve(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'provenant-suites');

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${result.stderr}`);
  return result.stdout;
}

/** The package's folder, ready to test: its files from the registry and a node_modules. */
export function install(suite) {
  const dir = path.join(cacheRoot, `${suite.name}@${suite.version}`);
  const done = path.join(dir, '.provenant-installed');
  if (existsSync(done)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tarball = run('npm', ['pack', `${suite.name}@${suite.version}`, '--json', '--pack-destination', dir], dir);
  const [{ filename }] = JSON.parse(tarball);
  run('tar', ['xzf', filename, '--strip-components=1'], dir);
  rmSync(path.join(dir, filename));
  // Its runtime dependencies plus only the test-time ones its tests load (not its linters,
  // type checkers or bundlers), so the install stays small.
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  manifest.dependencies = { ...manifest.dependencies, ...suite.testDependencies };
  delete manifest.devDependencies;
  delete manifest.peerDependencies;
  delete manifest.scripts;
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--loglevel=error'], dir);
  writeFileSync(done, new Date().toISOString());
  return dir;
}
