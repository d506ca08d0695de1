/**
 * A TCP proxy the test controls, standing in for a Tor circuit that dies: it forwards everything,
 * and once an upload's PATCH has carried `cutAfter` bytes, it drops both sockets mid-request, once.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CutProxy {
  port: number;
  /** How many times a connection was cut, and how many PATCH bytes had passed when it was. */
  cuts: { at: number }[];
  close(): Promise<void>;
}

export async function startCutProxy(targetPort: number, cutAfter: number): Promise<CutProxy> {
  const cuts: { at: number }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let patchBytes = -1;
    client.on('data', (chunk: Buffer) => {
      if (patchBytes < 0 && chunk.includes('PATCH /uploads/')) patchBytes = 0;
      if (patchBytes >= 0 && cuts.length === 0) {
        patchBytes += chunk.length;
        if (patchBytes > cutAfter) {
          cuts.push({ at: patchBytes });
          client.destroy();
          upstream.destroy();
          return;
        }
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    cuts,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
