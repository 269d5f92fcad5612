// The user front end: books an organ transport, then asks the broker, the resource manager and
// the drone operator in turn. A courier delay (the organ is late) holds the ready-to-fly back.
import { call, serve } from './http-json.mjs';

const { BROKER_PORT, RESOURCES_PORT, DRONE_PORT } = process.env;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

serve({
  'POST /bookings/:B': async ({ B }, { mission, organ, courierDelayMs = 0 }) => {
    const confirm = await call(BROKER_PORT, 'POST', `/bookings/${B}/confirm`, { organ });
    // fetch here, http.request elsewhere: evidence travels over both.
    const assigned = await fetch(`http://127.0.0.1:${RESOURCES_PORT}/missions/${mission}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ booking: B, organ }),
    });
    await assigned.arrayBuffer();
    await sleep(courierDelayMs);
    const launch = await call(DRONE_PORT, 'POST', `/missions/${mission}/ready-to-fly`, { organ });
    return [200, { confirm: confirm.status, mission: assigned.status, launch }];
  },
});
