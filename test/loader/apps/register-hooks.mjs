// What tsx, test runners and import-in-the-middle do: an asynchronous module.register() hook
// (here a pass-through load hook) in Node's hooks thread.
import { register } from 'node:module';

register('data:text/javascript,export async function load(url, context, next) { return next(url, context); }');
