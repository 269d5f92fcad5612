// Registers module customization hooks the way tsx and import-in-the-middle do. With
// argv[3] = 'writes', the hooks module writes a file when it starts, as a transpiler writes its cache.
import { register } from 'node:module';

const [root, mode] = process.argv.slice(2);
register(new URL('./hooks.mjs', import.meta.url), { data: { root, writes: mode === 'writes' } });
