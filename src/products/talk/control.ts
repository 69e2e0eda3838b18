import type { FastifyInstance } from 'fastify';

/** Talk control-plane routes, mounted under /_kapibara/v1 (operator token checked there). */
export default async function talkControlRoutes(_app: FastifyInstance): Promise<void> {}
