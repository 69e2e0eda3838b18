import type { FastifyInstance } from 'fastify';

/** User routes: literal Kakao paths. */
export default async function userRoutes(_app: FastifyInstance): Promise<void> {}
