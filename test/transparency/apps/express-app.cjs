'use strict';
// An express service the way apps write one (JSON body parsing, a router, static files, an error
// handler, a 404), exercised by its own client over http and fetch; prints every answer.
const http = require('node:http');
const path = require('node:path');
const fs = require('node:fs');
const express = require('express');

const dataDir = path.join(process.argv[2], 'public');
fs.mkdirSync(dataDir, { recursive: true });
fs.writeFileSync(path.join(dataDir, 'note.txt'), 'a public note');

const app = express();
app.use(express.json());
const api = express.Router();
api.get('/hello/:name', (req, res) => res.json({ hello: req.params.name, q: req.query.q ?? null }));
api.post('/echo', (req, res) => res.status(201).json({ got: req.body }));
api.get('/fail', () => {
  throw new Error('boom');
});
app.use('/api', api);
app.use('/static', express.static(dataDir));
app.get('/file', (req, res) => res.sendFile(path.join(dataDir, 'note.txt')));
app.use((err, req, res, next) => {
  void next;
  res.status(500).json({ error: err.message });
});

function viaHttp(port, method, target, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: target, headers: body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] ?? null, text }));
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const results = [];
  results.push(await viaHttp(port, 'GET', '/api/hello/ada?q=1'));
  results.push(await viaHttp(port, 'POST', '/api/echo', { n: [1, 2, 3] }));
  results.push(await viaHttp(port, 'GET', '/api/fail'));
  results.push(await viaHttp(port, 'GET', '/static/note.txt'));
  results.push(await viaHttp(port, 'GET', '/file'));
  results.push(await viaHttp(port, 'GET', '/missing'));
  const res = await fetch(`http://127.0.0.1:${port}/api/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"via":"fetch"}',
  });
  results.push({ status: res.status, type: res.headers.get('content-type'), text: await res.text() });
  for (const result of results) console.log(JSON.stringify(result));
  server.close();
});
