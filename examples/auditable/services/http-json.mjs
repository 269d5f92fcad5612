// Plain node:http helpers shared by the demo's services (the apps know nothing of provenant).
import http from 'node:http';

export function call(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A server routing `METHOD /a/:x` patterns to handlers(params, body) → [status, json]. */
export function serve(routes) {
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (text += chunk));
    req.on('end', async () => {
      for (const [pattern, handler] of Object.entries(routes)) {
        const [method, route] = pattern.split(' ');
        const params = match(route, req.url);
        if (req.method !== method || params === undefined) continue;
        const [status, json] = await handler(params, text ? JSON.parse(text) : {});
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
        return;
      }
      res.writeHead(404).end();
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
  return server;
}

function match(route, url) {
  const want = route.split('/');
  const got = url.split('?')[0].split('/');
  if (want.length !== got.length) return undefined;
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return undefined;
  }
  return params;
}
