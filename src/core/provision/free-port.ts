import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on `host`: the kernel picks it (bind to port 0), we read
 * it and release it. Another process can take it before the caller binds, so callers retry on
 * EADDRINUSE instead of trusting it; asking the kernel still beats guessing from a fixed range,
 * which collides whenever two clusters start at once.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port bound on ${host}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
