// An ESM app loaded through the hooks above (every import is resolved in Node's hooks thread):
// writes a file, and imports a module only the hooks' resolve hook can find.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import hooked from 'hooked:answer';

const [root] = process.argv.slice(2);
writeFileSync(join(root, 'out', 'public', 'app.txt'), 'app\n');
console.log(JSON.stringify({ app: 'ran', hooked }));
