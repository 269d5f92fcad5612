// Registers the app's hooks, and once more if the first register() throws: what each call did.
import { register } from 'node:module';

const [root, mode] = process.argv.slice(2);
const attempts = [];
for (let i = 0; i < 2; i++) {
  try {
    register(new URL('./hooks.mjs', import.meta.url), { data: { root, mode } });
    attempts.push('registered');
    break;
  } catch (error) {
    attempts.push(error.message);
  }
}
console.log(JSON.stringify({ attempts }));
process.exit(0);
