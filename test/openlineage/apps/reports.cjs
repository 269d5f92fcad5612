// A report service under the preload: GET /reports/<id> reads a patient file (secret, pii), writes
// a report, and tries to send the patient to an unlabelled endpoint (denied); a run() scope at start
// copies a public note. GET /quit answers and closes the server. Prints the port.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const provenant = require(process.env.PROVENANT_API);

const dir = process.env.WORK_DIR;
provenant.run(() => fs.writeFileSync(path.join(dir, 'out', 'notes-copy.txt'), fs.readFileSync(path.join(dir, 'public', 'notes.txt'))));

const server = http.createServer(async (req, res) => {
  const report = /^\/reports\/(\d+)$/.exec(req.url);
  if (report) {
    const patient = fs.readFileSync(path.join(dir, 'data', 'patients', `${report[1]}.json`));
    fs.writeFileSync(path.join(dir, 'out', `report-${report[1]}.json`), patient);
    try {
      await fetch(process.env.SINK_URL, { method: 'POST', body: patient });
    } catch (error) {
      console.log(`denied ${error.cause?.rule}`);
    }
    res.end('done');
  } else {
    res.end('bye');
    server.close();
  }
});
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
