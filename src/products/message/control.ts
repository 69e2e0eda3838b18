import type { FastifyInstance } from 'fastify';

/** Message control-plane routes, mounted under /_kapibara/v1 (operator token checked there). */
export default async function messageControlRoutes(_app: FastifyInstance): Promise<void> {}
