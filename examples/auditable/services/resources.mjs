// The resource manager: assigns a drone mission to a booking.
import { serve } from './http-json.mjs';

serve({
  'POST /missions/:M': async ({ M }, { booking }) => [201, { mission: M, booking }],
});
