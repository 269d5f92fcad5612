// The service broker: confirms bookings. Asked later, it claims it never confirmed anything.
import { serve } from './http-json.mjs';

serve({
  'POST /bookings/:B/confirm': async ({ B }) => [200, { booking: B, confirmed: true }],
  'GET /bookings/:B': async ({ B }) => [200, { booking: B, confirmed: false }],
});
