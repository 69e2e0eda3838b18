import type { FastifyRequest } from 'fastify';
import type { Sharp } from 'sharp';
import { loadSharp } from '../../core/lazy.js';
import { KakaoApiError, invalidParam } from '../../core/errors.js';
import type { NewImageFile } from './store.js';

/** Upload rules of /v1/api/story/upload/multi. */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
export const MAX_IMAGES = 10;

/** Size variants every photo story shows (`media[]`): longest side, never enlarged. */
export const VARIANTS = [
  { name: 'xlarge', suffix: '_xl', max: 1280 },
  { name: 'large', suffix: '_l', max: 720 },
  { name: 'medium', suffix: '_m', max: 480 },
  { name: 'small', suffix: '_s', max: 240 },
] as const;

const FORMATS: Record<string, { ext: string; contentType: string }> = {
  jpeg: { ext: 'jpg', contentType: 'image/jpeg' },
  png: { ext: 'png', contentType: 'image/png' },
  gif: { ext: 'gif', contentType: 'image/gif' },
  webp: { ext: 'webp', contentType: 'image/webp' },
};

export const CONTENT_TYPE_BY_EXT: Record<string, string> = Object.fromEntries(Object.values(FORMATS).map((f) => [f.ext, f.contentType]));

export function imageTooLarge(): KakaoApiError {
  return new KakaoApiError(-602, 'image size is too large. each image must be smaller than 10MB.', 400);
}

export function tooManyImages(msg = `too many images. up to ${MAX_IMAGES} images can be uploaded at once.`): KakaoApiError {
  return new KakaoApiError(-606, msg, 400);
}

export interface ReceivedFile {
  field: string;
  filename: string;
  bytes: Buffer;
}

/**
 * Reads every multipart file whose field name starts with `file` (`file`, `file[0]`, `file1`…).
 * Each file is read to its end even when it breaks a rule, so the client always gets the
 * Kakao error instead of a reset connection; nothing beyond the limits is kept in memory.
 */
export async function receiveFiles(req: FastifyRequest): Promise<ReceivedFile[]> {
  if (!req.isMultipart()) throw invalidParam('file is required: send the images as multipart/form-data.');
  const files: ReceivedFile[] = [];
  let count = 0;
  let tooLarge = false;
  try {
    // busboy stops keeping a file's bytes past 10 MB (the rest is read and discarded).
    // (`throwFileSizeLimit` is honoured per request at runtime though missing from the typings.)
    // An image must be *less than* 10 MB (seed 000): a file of exactly MAX_IMAGE_BYTES is truncated too.
    const parts = req.parts({ limits: { fileSize: MAX_IMAGE_BYTES - 1 }, throwFileSizeLimit: false } as Parameters<FastifyRequest['parts']>[0]);
    for await (const part of parts) {
      if (part.type !== 'file') continue;
      const wanted = part.fieldname.startsWith('file');
      if (wanted) count++;
      const keep = wanted && count <= MAX_IMAGES && !tooLarge;
      const chunks: Buffer[] = [];
      for await (const chunk of part.file) if (keep) chunks.push(chunk as Buffer);
      if (!wanted) continue;
      if (part.file.truncated) tooLarge = true;
      else if (keep) files.push({ field: part.fieldname, filename: part.filename, bytes: Buffer.concat(chunks) });
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    // The server-wide multipart limits answer with the same Kakao errors.
    if (code === 'FST_REQ_FILE_TOO_LARGE') tooLarge = true;
    else if (code === 'FST_FILES_LIMIT') count = Math.max(count, MAX_IMAGES + 1);
    else throw invalidParam(`invalid multipart body: ${(err as Error).message}`);
    req.raw.resume();
  }
  if (count > MAX_IMAGES) throw tooManyImages();
  if (tooLarge) throw imageTooLarge();
  if (count === 0) throw invalidParam('file is required: a multipart file field whose name starts with "file".');
  return files;
}

export interface ProcessedImage {
  ext: string;
  width: number;
  height: number;
  files: NewImageFile[];
}

/** Decodes an upload (sharp), reads its size and renders the JPEG size variants. */
export async function processImage(file: ReceivedFile): Promise<ProcessedImage> {
  const sharp = await loadSharp();
  let meta: Awaited<ReturnType<Sharp['metadata']>>;
  try {
    meta = await sharp(file.bytes, { failOn: 'error' }).metadata();
  } catch {
    throw invalidParam(`${file.field} is not an image${file.filename ? ` (${file.filename})` : ''}.`);
  }
  const format = meta.format && FORMATS[meta.format];
  if (!format || !meta.width || !meta.height) {
    throw invalidParam(`${file.field} is not a supported image (${meta.format ?? 'unknown'}); send JPEG, PNG, GIF or WebP.`);
  }
  const oriented = meta.autoOrient ?? { width: meta.width, height: meta.height };
  const files: NewImageFile[] = [
    { variant: 'original', contentType: format.contentType, width: oriented.width, height: oriented.height, bytes: file.bytes },
  ];
  try {
    for (const v of VARIANTS) {
      const { data, info } = await sharp(file.bytes, { failOn: 'error' })
        .rotate()
        .resize({ width: v.max, height: v.max, fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 85 })
        .toBuffer({ resolveWithObject: true });
      files.push({ variant: v.name, contentType: 'image/jpeg', width: info.width, height: info.height, bytes: data });
    }
  } catch {
    throw invalidParam(`${file.field} is not an image that can be decoded${file.filename ? ` (${file.filename})` : ''}.`);
  }
  return { ext: format.ext, width: oriented.width, height: oriented.height, files };
}

export function isGif(file: ReceivedFile): boolean {
  return file.bytes.subarray(0, 4).toString('latin1') === 'GIF8';
}
