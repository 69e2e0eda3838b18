import type { FastifyInstance } from 'fastify';

/** Story control-plane routes, mounted under /_kapibara/v1 (operator token checked there). */
export default async function storyControlRoutes(_app: FastifyInstance): Promise<void> {}
