// Starting and stopping a node:http(s) server the way every server of the manager does: listen
// resolves with the bound port (0 picks a free one), close stops accepting and drops idle
// keep-alive connections so shutdown does not wait for them.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `host:port` and resolves with the port actually bound. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops accepting connections and closes idle keep-alive ones. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
