'use strict';
// Creates the file named by argv[2] (a child that proves it ran).
require('node:fs').writeFileSync(process.argv[2], '');
