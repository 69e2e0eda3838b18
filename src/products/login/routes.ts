import type { FastifyInstance } from 'fastify';

/** Login routes: literal Kakao paths. */
export default async function loginRoutes(_app: FastifyInstance): Promise<void> {}
