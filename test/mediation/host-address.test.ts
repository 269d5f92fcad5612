// Every spelling of an address the resolver accepts has one canonical form, so a rule written for
// the dotted form (or for ::1) matches whatever the app dials.
import { expect, it } from 'vitest';
import { canonicalHost } from '../../src/support/host-address';

it('reads IPv4 literals as inet_aton does: short, decimal, hex, octal forms and IPv4-mapped IPv6', () => {
  for (const form of [
    '127.3',
    '2130706435',
    '0x7f000003',
    '127.000.000.003',
    '0x7f.0.0.3',
    '::ffff:127.0.0.3',
    '[::FFFF:7f00:3]',
    '127.0.0.3.',
  ])
    expect({ form, host: canonicalHost(form) }).toEqual({ form, host: '127.0.0.3' });
  // A leading 0 is octal, as the OS resolver reads it.
  expect(canonicalHost('010.0.0.1')).toBe('8.0.0.1');
});

it('compresses IPv6, keeps a zone, lower-cases names and leaves what is not an address alone', () => {
  expect(canonicalHost('[0:0:0:0:0:0:0:1]')).toBe('::1');
  expect(canonicalHost('FE80:0::1%eth0')).toBe('fe80::1%eth0');
  expect(canonicalHost('Example.COM.')).toBe('example.com');
  expect(canonicalHost('1.2.3.999')).toBe('1.2.3.999');
  expect(canonicalHost('256.1')).toBe('256.1');
  expect(canonicalHost('a.0x9z')).toBe('a.0x9z');
});
