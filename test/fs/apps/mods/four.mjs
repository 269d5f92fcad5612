import { three } from './three.mjs';
export const four = three + 1;
