/**
 * URLs as they may be recorded (journal, spans): the OpenTelemetry semantic conventions for
 * `url.full` keep credentials and query values out of telemetry. Here every query value becomes
 * `REDACTED` (keys stay, so the shape of a call is still visible) and `user:password@` is removed.
 * The text is rewritten, not re-serialised, so everything else stays byte for byte as requested.
 */
export const REDACTED = 'REDACTED';

export function redactUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  let rest = scheme ? url.slice(scheme[0].length) : url;
  if (scheme) {
    const authorityEnd = rest.search(/[/?#]/);
    const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
    const at = authority.lastIndexOf('@');
    if (at >= 0) rest = rest.slice(at + 1);
  }
  const hash = rest.indexOf('#');
  const fragment = hash < 0 ? '' : rest.slice(hash);
  const beforeFragment = hash < 0 ? rest : rest.slice(0, hash);
  const question = beforeFragment.indexOf('?');
  if (question < 0) return (scheme?.[0] ?? '') + beforeFragment + fragment;
  const query = beforeFragment
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
    })
    .join('&');
  return (scheme?.[0] ?? '') + beforeFragment.slice(0, question + 1) + query + fragment;
}
