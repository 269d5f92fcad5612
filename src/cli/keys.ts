/** `provenant keys [--state DIR]`: the C2SP verifier keys of the journal's logs, one per line. */
import { listLogs } from '../journal/logs.js';
import { STATE_HELP } from './journal-args.js';
import { journalListing } from './journal-listing.js';

const USAGE = `Usage: provenant keys [--state DIR]

Prints the verifier key (C2SP vkey: name+keyid+base64) of every signed log in the journal, one
per line, each once. Pin them in an auditor's tools, or pass one to verify --key. Exit 1 when no
log is signed.
${STATE_HELP}`;

export const keys = journalListing(
  'print the journal keys as C2SP verifier keys (vkeys)',
  USAGE,
  (dirs) => [...new Set(listLogs(dirs).flatMap((log) => (log.header.vkey ? [log.header.vkey + '\n'] : [])))],
  'no signed logs (is PROVENANT_JOURNAL_KEY set for the services?)',
  '',
);
