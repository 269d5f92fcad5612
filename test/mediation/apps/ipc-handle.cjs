'use strict';
// Helpers for writing to Node's IPC channel through its Pipe handle itself, as Node's own
// `_send` does (JSON serialization: one line per message; 'advanced': a 4-byte size and V8's
// serialization), bypassing `send`.
const v8 = require('node:v8');
const { WriteWrap } = process.binding('stream_wrap');

/** The channel handle Node keeps under its kChannelHandle symbol on `process` or a ChildProcess. */
function channelHandle(target) {
  const symbol = Object.getOwnPropertySymbols(target).find((key) => key.description === 'kChannelHandle');
  return target[symbol];
}

/** An advanced-serialization frame, as Node's own writeChannelMessage builds it. */
function frame(message) {
  const body = v8.serialize(message);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** Writes `message` straight to the handle; 'sent', or 'refused' when the write fails. */
function rawSend(target, message, serialization = 'json') {
  const handle = channelHandle(target);
  const req = new WriteWrap();
  req.handle = handle;
  req.oncomplete = () => undefined;
  const status =
    serialization === 'advanced'
      ? handle.writeBuffer(req, frame(message), null)
      : handle.writeUtf8String(req, `${JSON.stringify(message)}\n`, null);
  return status === 0 ? 'sent' : 'refused';
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
