'use strict';
// What the apps share: write `data` to root/relative and report 'written' or the denial.
const fs = require('node:fs');
const path = require('node:path');

module.exports = function writeOutcome(root, relative, data) {
  try {
    fs.writeFileSync(path.join(root, relative), data);
    return 'written';
  } catch (error) {
    return { code: error.code, rule: error.rule };
  }
};
