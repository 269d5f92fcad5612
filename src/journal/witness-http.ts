/** One POST of a text body to a witness, with a timeout; the whole answer is read. */

const REQUEST_TIMEOUT_MS = 10_000;

export function postText(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = process
      .getBuiltinModule(url.startsWith('https:') ? 'node:https' : 'node:http')
      .request(
        url,
        { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, timeout: REQUEST_TIMEOUT_MS },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
    request.on('timeout', () => request.destroy(new Error('witness request timed out')));
    request.on('error', reject);
    request.end(body);
  });
}
