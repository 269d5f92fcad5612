const esm = require('./esm.mjs');
module.exports = { value: esm.value + 1, cache: typeof require.cache };
