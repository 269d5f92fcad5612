// The drone operator: a ready-to-fly request launches the drone (appends to launches.log).
import { appendFileSync } from 'node:fs';
import { serve } from './http-json.mjs';

serve({
  'POST /missions/:M/ready-to-fly': async ({ M }) => {
    appendFileSync('launches.log', `${M}\n`);
    return [200, { mission: M, launched: true }];
  },
});
