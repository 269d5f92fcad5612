// Runs before provenant (a --require preload runs before every --import): makes registering
// provenant's hooks-thread starter fail, as a missing or unreadable dist/hooks-start.mjs would.
const nodeModule = require('node:module');
const register = nodeModule.register;
nodeModule.register = function (specifier, ...rest) {
  if (String(specifier).endsWith('/hooks-start.mjs')) throw new Error('starter unavailable');
  return Reflect.apply(register, this, [specifier, ...rest]);
};
