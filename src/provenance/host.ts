/** The canonical form of a host name or address, so a peer compares equal however it was written. */
export { canonicalHost as normaliseHost } from '../support/host-address.js';
