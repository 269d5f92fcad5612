// Registers module customization hooks the way tsx and import-in-the-middle do. argv[3] is what the
// hooks module does when it starts (apps/hooks.mjs); a refused start is printed, as the app's outcome.
import { register } from 'node:module';

const [root, mode] = process.argv.slice(2);
try {
  register(new URL('./hooks.mjs', import.meta.url), { data: { root, mode } });
} catch (error) {
  console.log(JSON.stringify({ register: error.code ?? error.message }));
  process.exit(0);
}
