import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatVia, getParam, parseVia, type Via } from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

function one(s: string): Via {
  const list = parseVia(s);
  assert.equal(list.length, 1);
  return list[0]!;
}

test('RFC 3261 §20.42: sent-protocol, sent-by and via-params', () => {
  assert.deepEqual(one('SIP/2.0/UDP erlang.bell-telephone.com:5060;branch=z9hG4bK87asdks7'), {
    protocolName: 'SIP', protocolVersion: '2.0', transport: 'UDP', host: 'erlang.bell-telephone.com', hostType: 'domain',
    port: 5060, params: [{ name: 'branch', value: 'z9hG4bK87asdks7' }], branch: 'z9hG4bK87asdks7',
  });
  const v = one('SIP/2.0/udp 192.0.2.1:5060 ;received=192.0.2.207;branch=z9hG4bK77asjd;ttl=16;maddr=224.2.0.1');
  assert.equal(v.transport, 'UDP');
  assert.equal(v.received, '192.0.2.207');
  assert.equal(getParam(v.params, 'ttl'), '16');
});

test('RFC 4475 §3.1.1.1 wsinv: LWS around "/", ":" "=" and ";", and across a comma list', () => {
  const a = one('SIP  /   2.0 /UDP     192.0.2.2;branch=390skdjuw');
  assert.equal(a.protocolName, 'SIP');
  assert.equal(a.protocolVersion, '2.0');
  assert.equal(a.transport, 'UDP');
  assert.equal(a.host, '192.0.2.2');
  assert.equal(a.branch, '390skdjuw');
  const list = parseVia('SIP  / 2.0  / TCP     spindle.example.com   ;   branch  =   z9hG4bK9ikj8  ,  SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239');
  assert.deepEqual(list.map((v) => [v.transport, v.host, v.branch]), [
    ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
    ['UDP', '192.168.255.111', 'z9hG4bK30239'],
  ]);
  assert.equal(one('SIP/2.0/UDP host.example.com : 5070').port, 5070);
});

test('RFC 4475 §3.1.1.10 transports: UDP, SCTP, TLS, an unknown token and TCP', () => {
  const joined = ['UDP t1', 'SCTP t2', 'TLS t3', 'UNKNOWN t4', 'TCP t5'].map((t) => `SIP/2.0/${t}.example.com;branch=z9hG4bKx`).join(', ');
  assert.deepEqual(parseVia(joined).map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
});

test('RFC 4475 §3.1.1.2 intmeth and §3.1.1.5 esc02: unusual but valid branch tokens', () => {
  assert.equal(one("SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~").branch, "z9hG4bK-.!%66*_+`'~");
  assert.equal(one('SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234').branch, 'z9hG4bK209%fzsnel234');
});

test('RFC 4475 §3.2.1 badbranch: the bare magic cookie parses', () => {
  assert.equal(one('SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK').branch, 'z9hG4bK');
});

test('RFC 4475 §3.1.2.1 badinv01: empty params and empty list elements are rejected', () => {
  assertParseError(() => parseVia('SIP/2.0/UDP 192.0.2.15;;,;,,'));
  assertParseError(() => parseVia('SIP/2.0/UDP 192.0.2.15,'));
  assertParseError(() => parseVia('SIP/2.0/UDP 192.0.2.15;branch'));
});

test('RFC 4475 §3.1.1.11 mpart01 and RFC 3581 §3: rport without a value is null, with one a port', () => {
  const v = one('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport');
  assert.equal(v.rport, null);
  assert.equal(v.port, 5070);
  assert.equal(one('SIP/2.0/UDP 10.0.0.1;rport=5061;received=192.0.2.1').rport, 5061);
  assert.equal(one('SIP/2.0/UDP 10.0.0.1').rport, undefined);
  assertParseError(() => parseVia('SIP/2.0/UDP 10.0.0.1;rport=99999'));
  assertParseError(() => parseVia('SIP/2.0/UDP 10.0.0.1;rport=x'));
});

test('RFC 5118 §4.5: received as IPv6 with and without brackets', () => {
  const a = one('SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111');
  assert.equal(a.host, '[2001:db8::9:1]');
  assert.equal(a.hostType, 'ipv6');
  assert.equal(a.received, '[2001:db8::9:255]');
  assert.equal(one('SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3').received, '2001:db8::9:255');
  assertParseError(() => parseVia('SIP/2.0/UDP 10.0.0.1;received=host.example.com'));
  assertParseError(() => parseVia('SIP/2.0/UDP 10.0.0.1;received=2001:db8:::1'));
  assertParseError(() => parseVia('SIP/2.0/UDP 10.0.0.1;branch=a:b'));
});

test('RFC 5118 §4.7 and §4.9: IPv6 and IPv4 Vias in one list, IPv4-mapped addresses', () => {
  const list = parseVia('SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111, SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144, SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200');
  assert.deepEqual(list.map((v) => [v.host, v.port, v.received]), [
    ['[2001:db8::9:1]', 6050, undefined], ['192.0.2.1', undefined, undefined], ['[2001:db8::9:255]', undefined, '192.0.2.200'],
  ]);
  assert.equal(one('SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19').host, '[::ffff:192.0.2.10]');
  assertParseError(() => parseVia('SIP/2.0/UDP 2001:db8::9:1;branch=z9hG4bKx'));
});

test('RFC 4475 §3.3.10 bcast: a broadcast sent-by still parses', () => {
  assert.equal(one('SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23').hostType, 'ipv4');
});

test('RFC 3261 §25.1: malformed Vias are rejected', () => {
  for (const bad of ['', 'SIP/2.0', 'SIP/2.0/UDP', 'SIP/2.0/UDP ', 'SIP/2.0UDP host', 'SIP//UDP host', 'SIP/2.0/UDPhost',
    'SIP/2.0/UDP host:', 'SIP/2.0/UDP host:70000', 'SIP/2.0/UDP host;ttl=256', 'SIP/2.0/UDP host;maddr=bad_host',
    'SIP/2.0/UDP host;branch=a;branch=b', 'SIP/2.0/UDP host junk', 'SIP/2.0/UDP [::1;branch=x']) {
    assertParseError(() => parseVia(bad));
  }
});

test('RFC 3261 §20.42: formatVia round-trips and applies typed fields', () => {
  for (const s of ['SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport', 'SIP/2.0/TLS [2001:db8::1]:5061;received=2001:db8::2;branch=z9hG4bKx;foo="a b"']) {
    const v = one(s);
    assert.equal(formatVia(v), s);
    assert.deepEqual(one(formatVia(v)), v);
  }
  const v = one('SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKold');
  assert.equal(formatVia({ ...v, rport: 5060, received: '192.0.2.9' }), 'SIP/2.0/UDP 10.0.0.1;rport=5060;branch=z9hG4bKold;received=192.0.2.9');
  assert.equal(formatVia({ protocolName: 'SIP', protocolVersion: '2.0', transport: 'TCP', host: 'a.example.com', hostType: 'domain', params: [], branch: 'z9hG4bKnew', rport: null }),
    'SIP/2.0/TCP a.example.com;branch=z9hG4bKnew;rport');
});
