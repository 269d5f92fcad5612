'use strict';
// Appends every IPC message to the file argv[2] and acknowledges it; exits when disconnected.
const fs = require('node:fs');
process.on('message', (message) => {
  fs.appendFileSync(process.argv[2], `${message}\n`);
  process.send('stored');
});
