'use strict';
// Helpers for writing to Node's IPC channel through its Pipe handle itself, as Node's own
// `_send` does (JSON serialization: one line per message), bypassing `send`.
const { WriteWrap } = process.binding('stream_wrap');

/** The channel handle Node keeps under its kChannelHandle symbol on `process` or a ChildProcess. */
function channelHandle(target) {
  const symbol = Object.getOwnPropertySymbols(target).find((key) => key.description === 'kChannelHandle');
  return target[symbol];
}

/** Writes `message` straight to the handle; 'sent', or 'refused' when the write fails. */
function rawSend(target, message) {
  const handle = channelHandle(target);
  const req = new WriteWrap();
  req.handle = handle;
  req.oncomplete = () => undefined;
  return handle.writeUtf8String(req, `${JSON.stringify(message)}\n`, null) === 0 ? 'sent' : 'refused';
}

const outcomeOf = (error) => (error ? (error.code === 'ERR_PROVENANCE_DENIED' ? `denied:${error.rule}` : `failed:${error.code}`) : 'sent');

/** `send` or Node's `_send` (what `send` calls) with a callback, as an outcome. */
const viaSend = (target, method, message) =>
  new Promise((resolve) => {
    const done = (error) => resolve(outcomeOf(error));
    if (method === 'send') target.send(message, done);
    else target._send(message, null, {}, done);
  });

module.exports = { rawSend, viaSend };
