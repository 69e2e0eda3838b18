/**
 * The bare baseline's bytes: Kapibara's answer to a request exactly as it went over the
 * wire, and the check that the bare server repeats it to the byte before anything is
 * measured (bench/run.ts, bench/instructions.ts).
 */
import { request } from 'node:http';
import type { RequestSpec } from './scenarios.js';

/** Headers that are the transport's, not the answer's: everything else must match to the byte. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

export interface Answer {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

/** One answer exactly as it went over the wire (node:http, so header names and order are kept). */
export function rawAnswer(origin: string, spec: RequestSpec): Promise<Answer> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: spec.method, path: spec.path, headers: spec.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (!TRANSPORT.has(res.rawHeaders[i].toLowerCase())) headers.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
        }
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** The exact bytes Kapibara answers, for the bare baseline to repeat. */
export async function capture(origin: string, spec: RequestSpec) {
  const answer = await rawAnswer(origin, spec);
  if (answer.status !== 200) throw new Error(`${spec.method} ${spec.path} → ${answer.status} ${answer.body.toString()}`);
  return { key: `${spec.headers?.authorization ?? ''} ${spec.path}`, status: answer.status, headers: answer.headers, body: answer.body.toString('base64'), spec };
}

/**
 * Refuses to measure unless the bare server answers each request with Kapibara's bytes:
 * status, every header but the transport's (names, values, order) and body. A send whose
 * answer does not depend on what it stores (memo send) is compared after a second send.
 */
export async function checkIdentical(kapibara: string, bare: string, samples: Awaited<ReturnType<typeof capture>>[]) {
  for (const sample of samples) {
    const [k, b] = [await rawAnswer(kapibara, sample.spec), await rawAnswer(bare, sample.spec)];
    const text = (a: Answer) => JSON.stringify([a.status, a.headers]) + a.body.toString('base64');
    if (text(k) !== text(b)) {
      throw new Error(`bare baseline differs from Kapibara for ${sample.spec.method} ${sample.spec.path}:\n  kapibara ${JSON.stringify([k.status, k.headers, k.body.toString()])}\n  bare     ${JSON.stringify([b.status, b.headers, b.body.toString()])}`);
    }
  }
}
