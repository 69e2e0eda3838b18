import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ControlError, KakaoApiError, OAuthError } from './errors.js';

/** Which error shape a route speaks: the OAuth one (kauth) or `{code,msg}` (kapi, dapi). */
export type Surface = 'kauth' | 'kapi' | 'control';

declare module 'fastify' {
  interface FastifyContextConfig {
    surface?: Surface;
  }
}

const JSON_TYPE = 'application/json;charset=UTF-8';

function surfaceOf(req: FastifyRequest): Surface {
  return req.routeOptions.config?.surface ?? 'kapi';
}

/** The one place errors become responses; every other path throws typed errors. */
export function installErrorHandling(app: FastifyInstance): void {
  // Kakao writes `application/json;charset=UTF-8`. Callback style: this runs on every
  // response, and an async hook costs a promise each time.
  app.addHook('onSend', (_req, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    if (type !== JSON_TYPE && typeof type === 'string' && type.startsWith('application/json')) reply.header('content-type', JSON_TYPE);
    done(null, payload);
  });

  app.setErrorHandler((err: FastifyError | KakaoApiError | OAuthError | ControlError, req, reply) => {
    if (err instanceof KakaoApiError) return sendApiError(reply, err);
    if (err instanceof ControlError) return reply.status(err.status).type(JSON_TYPE).send({ error: err.message });
    if (err instanceof OAuthError) return reply.status(err.status).type(JSON_TYPE).send(err.body());
    const fe = err as FastifyError;
    const surface = surfaceOf(req);
    // Schema validation, malformed bodies, unsupported content types: the client's fault.
    if (fe.validation || (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500)) {
      const what = fe.validation
        ? `invalid ${fe.validationContext ?? 'parameter'}: ${fe.validation.map((v) => `${v.instancePath.replace(/^\//, '') || (v.params as { missingProperty?: string }).missingProperty || ''} ${v.message}`).join(', ')}`
        : fe.message;
      if (surface === 'kauth') {
        return reply.status(400).type(JSON_TYPE).send({ error: 'invalid_request', error_description: what, error_code: 'KOE001' });
      }
      if (surface === 'control') return reply.status(fe.statusCode ?? 400).type(JSON_TYPE).send({ error: what });
      return sendApiError(reply, new KakaoApiError(-2, what, 400));
    }
    req.log.error({ err }, 'unhandled error');
    if (surface === 'kauth') {
      return reply.status(500).type(JSON_TYPE).send({ error: 'server_error', error_description: 'internal error', error_code: 'KOE003' });
    }
    return sendApiError(reply, new KakaoApiError(-1, 'internal error', 500));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).type(JSON_TYPE).send({ msg: `no such api: ${req.method} ${req.url.split('?')[0]}`, code: -1 });
  });
}

function sendApiError(reply: FastifyReply, err: KakaoApiError) {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.status(err.status).type(JSON_TYPE).send(err.body());
}
