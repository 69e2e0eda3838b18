import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseForm } from './form.js';

/**
 * Form fields in the body of a GET. Kakao reads them (seed 003's own sample for
 * /v2/api/talk/profiles is `curl -X GET … -d viewer_id=… -d target_ids=[…]`), and so do we:
 * Fastify parses no GET body, so a urlencoded one is read here and becomes `req.body`,
 * which `params()` merges with the query as for a POST (body wins). GETs without a body
 * (the JavaScript SDK sends the form content type on every GET) cost a header check.
 */
export function installGetForms(app: FastifyInstance): void {
  const limit = app.initialConfig.bodyLimit ?? 1024 * 1024;
  app.addHook('preValidation', (req, _reply, done) => {
    if (req.method !== 'GET' || !hasFormBody(req)) return done();
    readText(req, limit).then((text) => {
      req.body = parseForm(text);
      done();
    }, done);
  });
}

function hasFormBody(req: FastifyRequest): boolean {
  const type = req.headers['content-type'];
  if (type === undefined || !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

class BodyTooLarge extends Error {
  readonly statusCode = 413;
  constructor(limit: number) {
    super(`request body is larger than ${limit} bytes.`);
  }
}

function readText(req: FastifyRequest, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.raw.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.raw.removeAllListeners('data');
        req.raw.resume();
        reject(new BodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.raw.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.raw.on('error', reject);
  });
}
