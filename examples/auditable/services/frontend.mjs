// The user front end: books an organ transport, then asks the broker, the resource manager and
// the drone operator in turn. A courier delay (the organ is late) holds the ready-to-fly back.
import { call, serve } from './http-json.mjs';

const { BROKER_PORT, RESOURCES_PORT, DRONE_PORT } = process.env;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

serve({
  'POST /bookings/:B': async ({ B }, { mission, organ, courierDelayMs = 0 }) => {
    const confirm = await call(BROKER_PORT, 'POST', `/bookings/${B}/confirm`, { organ });
    const assigned = await call(RESOURCES_PORT, 'POST', `/missions/${mission}`, { booking: B, organ });
    await sleep(courierDelayMs);
    const launch = await call(DRONE_PORT, 'POST', `/missions/${mission}/ready-to-fly`, { organ });
    return [200, { confirm: confirm.status, mission: assigned.status, launch }];
  },
});
