'use strict';
// Top-level I/O in a module is app I/O and is recorded (unlike loading the module itself).
const fs = require('node:fs');
const path = require('node:path');

module.exports = fs.readFileSync(path.join(process.argv[2], 'secret/a.txt'), 'utf8').length + require('./two.cjs');
