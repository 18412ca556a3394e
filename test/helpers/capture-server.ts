import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  method: string;
  /** Path and query, as the server saw them. */
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** How the server answers: a status (and body), or `hang` to accept the request and never answer. */
export type Reply = { status: number; body?: string } | 'hang';

/**
 * A real local HTTP server (node:http on a loopback port) that records every request and answers
 * as told, standing in for Slack, healthchecks.io or any webhook receiver.
 */
export async function startCaptureServer(reply: (req: CapturedRequest) => Reply = () => ({ status: 200 })) {
  const requests: CapturedRequest[] = [];
  const hanging: ServerResponse[] = [];
  let answer = reply;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured: CapturedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(captured);
      const r = answer(captured);
      if (r === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(r.status, { 'content-type': 'text/plain' });
      res.end(r.body ?? (r.status < 300 ? 'ok' : 'error'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    /** Changes how later requests are answered. */
    answerWith(next: (req: CapturedRequest) => Reply) {
      answer = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on (bound, read, released), for "endpoint is down". */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
