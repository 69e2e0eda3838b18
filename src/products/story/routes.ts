import type { FastifyInstance } from 'fastify';

/** Story routes: literal Kakao paths. */
export default async function storyRoutes(_app: FastifyInstance): Promise<void> {}
