import leaf from './leaf.cjs';
export const value = leaf.n;
