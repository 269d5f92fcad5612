// Node's IPC channel, both ends: a message is a flow to the process at the other end, decided
// however it is written — `send`, Node's `_send`, or the channel's Pipe handle itself (no socket
// owns it). Each denial is proven at the other process (it received nothing of it), next to the
// allowed twin through the same path, which it received.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, SECRET_TEXT, workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const DENIED = 'denied:confidentiality';
/** The parent of a forked child, named by role, may receive secrets. */
const PARENT_LABELLED = ['  - match: { process: parent }', '    labels: { confidentiality: secret }'].join('\n');

describe("Node's IPC channel", () => {
  for (const serialization of ['json', 'advanced']) {
    it(`a forked child under provenant (serialization '${serialization}'): a secret it read never reaches its parent, by process.send, process._send or the channel handle, also framed as Node's control message by the app; public messages do`, async () => {
      const ws = workspace();
      const result = await ws.run('ipc-parent.cjs', { args: [serialization] });
      expect(result.code, result.stderr).toBe(0);
      const { got, child } = outcome<{ got: string[]; child: Record<string, string> }>(result);
      expect(child).toEqual({
        publicSend: 'sent',
        publicRaw: 'sent',
        secretSend: DENIED,
        secretRaw: 'refused',
        // Node reports the refused handle write as a failed write.
        secretUnderscoreSend: 'failed:EPERM',
        // Dressed as Node's own control message, sent by the app: decided like any other.
        secretControlSend: DENIED,
        secretControlRaw: 'refused',
      });
      expect(got).toEqual(['public send', 'public raw']);
      expect(got.join('')).not.toContain(SECRET_TEXT.trim());
    });
  }

  it('a parent labelled by role (`match: { process: parent }`) receives what its label admits, however the child sends it; the same app is refused without the label (above)', async () => {
    const ws = workspace(PARENT_LABELLED);
    const result = await ws.run('ipc-parent.cjs');
    expect(result.code, result.stderr).toBe(0);
    const { got, child } = outcome<{ got: string[]; child: Record<string, string> }>(result);
    expect(Object.values(child)).toEqual(Array<string>(7).fill('sent'));
    // send, the raw handle, _send, and both control-shaped messages (Node emits those as 'internalMessage').
    expect(got.filter((message) => message.includes(SECRET_TEXT.trim()))).toHaveLength(5);
    expect(got.slice(0, 2)).toEqual(['public send', 'public raw']);
  });

  it("labelling the parent role leaves the parent's own flows alone: a secret written to its child is still refused", async () => {
    const ws = workspace(PARENT_LABELLED);
    const result = await ws.run('ipc-parent-writes.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({ publicSend: 'sent', publicRaw: 'sent', secretRaw: 'refused', secretUnderscoreSend: 'failed:EPERM' });
    expect(ws.read('out/public/ipc.txt')).toBe('public message\npublic raw\n');
  });

  it("the parent: a secret written to a child's channel handle or through child._send never reaches an unlabelled child; public messages do", async () => {
    const ws = workspace();
    const result = await ws.run('ipc-parent-writes.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({ publicSend: 'sent', publicRaw: 'sent', secretRaw: 'refused', secretUnderscoreSend: 'failed:EPERM' });
    // The child appended every message it received: the two public ones only.
    expect(ws.read('out/public/ipc.txt')).toBe('public message\npublic raw\n');
  });

  it("a cluster worker that read a labelled file still listens and is handed connections: Node's own control messages are not the app's data", async () => {
    const ws = workspace();
    const result = await ws.run('cluster-worker.cjs');
    expect(result.code, result.stderr).toBe(0);
    // The connection reached the worker's handler (its request context holds nothing labelled).
    expect(outcome(result)).toEqual({ listening: true, status: 200, handled: true });
  });

  it("serialization 'advanced': a cluster worker that read a labelled file still listens (Node's control messages, V8-serialized, pass when Node sends them)", async () => {
    const ws = workspace();
    const result = await ws.run('cluster-worker.cjs', { args: ['advanced'] });
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({ listening: true, status: 200, handled: true });
  });
});
