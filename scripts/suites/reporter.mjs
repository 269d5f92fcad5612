// node:test reporter for the transparency suites: one JSON line per finished test,
// {"file","name","status"} with the test's full name (ancestors joined by " > "), so runs plain
// and under the preload compare test by test. Status is pass, fail or skip (skip and todo).
import path from 'node:path';

export default async function* report(source) {
  // The names of the tests being run, per file and nesting level, to name nested tests in full.
  const open = new Map();
  for await (const event of source) {
    const { data } = event;
    if (event.type === 'test:start') {
      const stack = open.get(data.file) ?? [];
      stack.length = data.nesting;
      stack.push(data.name);
      open.set(data.file, stack);
      continue;
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const ancestors = (open.get(data.file) ?? []).slice(0, data.nesting);
    const status = data.skip !== undefined || data.todo !== undefined ? 'skip' : event.type === 'test:pass' ? 'pass' : 'fail';
    const file = data.file ? path.basename(data.file) : '';
    const line = { file, name: [...ancestors, data.name].join(' > '), status };
    if (status === 'fail') line.error = String(data.details?.error?.cause ?? data.details?.error ?? '').slice(0, 400);
    yield `${JSON.stringify(line)}\n`;
  }
}
