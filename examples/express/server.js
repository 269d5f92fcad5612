// A plain express app with no provenant code in it; run it with `node -r provenant/register server.js`.
const express = require('express');
const { readFile, writeFile } = require('node:fs/promises');
const path = require('node:path');

const app = express();
const data = (...parts) => path.join(__dirname, 'data', ...parts);

// Public data: served to anyone.
app.get('/products', async (_req, res) => {
  res.json(JSON.parse(await readFile(data('products.json'), 'utf8')));
});

// Customer data is confidential: provenant withholds the response from an unknown caller.
app.get('/customers/:id', async (req, res) => {
  if (!/^c-\d+$/.test(req.params.id)) return res.status(404).end();
  res.json(JSON.parse(await readFile(data('customers', `${req.params.id}.json`), 'utf8')));
});

// Sends a customer to a US marketing webhook: denied before any connection is made. (The
// caller then gets provenant's 403, not this 502: the request now holds customer data.)
app.post('/customers/:id/share', async (req, res) => {
  if (!/^c-\d+$/.test(req.params.id)) return res.status(404).end();
  const customer = await readFile(data('customers', `${req.params.id}.json`), 'utf8');
  try {
    await fetch('https://hooks.example.com/leads', { method: 'POST', body: customer });
    res.status(204).end();
  } catch (error) {
    const denial = error.cause?.code === 'ERR_PROVENANCE_DENIED' ? error.cause : error;
    console.log(`share denied: ${denial.rule}: ${denial.reason}`);
    res.status(502).json({ error: 'not shared' });
  }
});

// Overwriting the catalogue with request data: denied (untrusted data into a high-integrity file).
app.put('/products', express.text({ type: '*/*' }), async (req, res) => {
  try {
    await writeFile(data('products.json'), req.body);
    res.status(204).end();
  } catch (error) {
    res.status(403).json({ error: error.code, rule: error.rule });
  }
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () => console.log(`shop listening on http://127.0.0.1:${port}`));
