import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { loadSharp } from '../core/lazy.js';
import { createHash } from 'node:crypto';
import { escapeHtml } from '../core/html.js';

/**
 * Profile pictures for simulated people, drawn on request (no network, no files): a
 * coloured square derived from the name, with the initial (the first character of `initial`)
 * when it is a Latin letter or digit.
 * `/_kapibara/avatars/<name>_<size>.png`, size 110 (thumbnail) or 640 (profile image).
 */
export const AVATAR_PREFIX = '/_kapibara/avatars';
const SIZES = new Set([110, 640]);
const cache = new Map<string, Buffer>();

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The first character a reader sees in `text`: a whole emoji, flag or letter with its
 * marks (the first UTF-16 unit of an emoji is half of it, and no character at all).
 */
export function initialOf(text: string): string {
  for (const { segment } of graphemes.segment(text)) return segment;
  return '';
}

/** A path: made absolute on each request's origin where it is answered (core/own-urls.ts). */
export function avatarUrl(name: string, size: 110 | 640, initial: string): string {
  return `${AVATAR_PREFIX}/${encodeURIComponent(name)}_${size}.png?initial=${encodeURIComponent(initialOf(initial))}`;
}

async function draw(name: string, size: number, initial: string): Promise<Buffer> {
  const hue = createHash('sha1').update(name).digest()[0] * (360 / 256);
  const letter = /^[A-Za-z0-9]$/.test(initial) ? initial.toUpperCase() : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100">
<rect width="100" height="100" fill="hsl(${hue.toFixed(0)},65%,62%)"/>
<circle cx="50" cy="40" r="18" fill="rgba(255,255,255,.35)"/><rect x="22" y="64" width="56" height="40" rx="20" fill="rgba(255,255,255,.35)"/>
${letter ? `<text x="50" y="58" font-family="sans-serif" font-size="40" font-weight="700" text-anchor="middle" fill="#fff">${escapeHtml(letter)}</text>` : ''}
</svg>`;
  const sharp = await loadSharp();
  return sharp(Buffer.from(svg)).png().toBuffer();
}

export default async function avatarRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/:file',
    {
      config: { surface: 'control' },
      schema: {
        params: Type.Object({ file: Type.String({ pattern: '^.{1,64}_(110|640)\\.png$' }) }),
        // A word or a name is taken too: its first character is drawn (an emoji with its
        // modifiers is one character of many code units).
        querystring: Type.Object({ initial: Type.Optional(Type.String({ maxLength: 64 })) }),
      },
    },
    async (req, reply) => {
      const m = /^(.*)_(\d+)\.png$/.exec(req.params.file)!;
      const size = Number(m[2]);
      if (!SIZES.has(size)) return reply.status(404).send({ error: 'unknown avatar size' });
      const initial = initialOf(req.query.initial ?? '');
      const key = `${m[1]}|${size}|${initial}`;
      let png = cache.get(key);
      if (!png) {
        png = await draw(m[1], size, initial);
        if (cache.size > 500) cache.clear();
        cache.set(key, png);
      }
      return reply.type('image/png').header('cache-control', 'public, max-age=86400').send(png);
    },
  );
}
