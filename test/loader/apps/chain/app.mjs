// ESM app → CJS dependency → require() of an ES module → which imports CJS (require(esm)), plus
// a real CJS package (express) imported from ESM.
import express from 'express';
import dep from './dep.cjs';

console.log(JSON.stringify({ value: dep.value, cacheInImportedCjs: dep.cache, express: typeof express.Router }));
