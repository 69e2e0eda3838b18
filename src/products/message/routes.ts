import type { FastifyInstance } from 'fastify';

/** Message routes: literal Kakao paths. */
export default async function messageRoutes(_app: FastifyInstance): Promise<void> {}
