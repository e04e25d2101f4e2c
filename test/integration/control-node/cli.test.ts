import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runControl } from '../../../src/cli/control.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const dir = mkdtempSync(path.join(tmpdir(), 'weft-cn-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const o = { out: '', io: { stdout: { write: (s: string) => (o.out += s) }, stderr: { write: (s: string) => (o.out += s) } } };
  return o;
}

describe('weft control with a control-model file', () => {
  it('--check summarises the book lab', async () => {
    const o = io();
    expect(await runControl(['--config', LAB, '--check'], o.io)).toBe(0);
    expect(o.out).toBe(`${LAB}: ok: AS 64512, router-id 10.169.25.19, 7 virtual network(s), 10 port(s), 1 BGP router(s), 2 vRouter(s)\n`);
  });

  it('rejects a dangling reference with file:line:col and starts nothing', async () => {
    const f = path.join(dir, 'bad.yaml');
    writeFileSync(f, readFileSync(LAB, 'utf8').replace('backends: [default-domain:k8s-default:webserver-1-eth0, default-domain:k8s-default:webserver-2-eth0]\n    floating-ip', 'backends: [default-domain:k8s-default:webserver-9-eth0]\n    floating-ip'));
    const o = io();
    expect(await runControl(['--config', f], o.io)).toBe(1);
    expect(o.out).toMatch(/bad\.yaml:\d+:\d+: services\[1\]\.backends\[0\]: no port named 'default-domain:k8s-default:webserver-9-eth0'\n/);
    expect(o.out).toContain('1 error, nothing started');
  });

  it('starts BGP, XMPP, introspect and REST on loopback and stops cleanly', async () => {
    const f = path.join(dir, 'lab.yaml');
    writeFileSync(
      f,
      readFileSync(LAB, 'utf8')
        .replace('bgp: { address: 10.169.25.19, port: 179 }', 'bgp: { address: 127.0.0.1, port: 0 }')
        .replace('xmpp: { address: 10.169.25.19, port: 5269 }', 'xmpp: { address: 127.0.0.1, port: 0 }')
        .replace('introspect: { address: 127.0.0.1, port: 8083 }', 'introspect: { address: 127.0.0.1, port: 0 }')
        .replace('rest: { address: 127.0.0.1, port: 8082 }', 'rest: { address: 127.0.0.1, port: 0 }')
        .replace('address: 192.168.0.204, asn: 64512,', 'address: 127.0.0.1, asn: 64512, passive: true,'),
    );
    let stop: (v: string) => void = () => undefined;
    const until = new Promise<string>((r) => (stop = r));
    let restUrl = '';
    const o = io();
    let code = -1;
    const ready = new Promise<void>((r) => {
      void runControl(['--config', f], o.io, { until, onReady: (i) => ((restUrl = i.restUrl ?? ''), r()) }).then((c) => (code = c));
    });
    await ready;
    const ris = (await (await fetch(`${restUrl}/api/routing-instances`)).json()) as { name: string; rd: string; importTargets: string[] }[];
    const fip = ris.find((r) => r.name === 'default-domain:k8s-ns-user-1:vn-ns-default:vn-ns-default')!;
    expect(fip).toMatchObject({ rd: '10.169.25.19:16', importTargets: ['target:64512:8000016', 'target:500:500'] });
    const vn = (await (await fetch(`${restUrl}/api/virtual-networks/${encodeURIComponent('default-domain:k8s-default:k8s-default-pod-network')}`)).json()) as Record<string, unknown>;
    expect(vn['subnets']).toEqual([{ prefix: '10.32.0.0/12', gateway: '10.47.255.254', 'service-address': '10.47.255.253' }]);
    stop('test');
    await new Promise((r) => setTimeout(r, 200));
    expect(code).toBe(0);
    expect(o.out).toContain('REST API on http://127.0.0.1:');
  });
});
