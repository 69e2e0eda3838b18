import type { FastifyRequest } from 'fastify';
import { randomInt } from 'node:crypto';
import { loadSharp } from '../../core/lazy.js';
import { KakaoApiError, invalidParam } from '../../core/errors.js';
import { FetchRefused, fetchBytes } from '../../core/fetcher.js';
import type { AppCall } from '../../core/auth.js';
import { deleteImage, findImage, insertImages, type ImageRow } from './store.js';

/**
 * Images for sharing messages (seed 004 "Upload image", products notes §1.6): uploaded or
 * scrapped, decoded for their real format and size, stored in the database and served back
 * for 20 days after the upload on the platform clock.
 */

export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
export const MAX_IMAGES = 5;
export const KEEP_MS = 20 * 24 * 3600 * 1000;
const SCRAP_TIMEOUT_MS = 5000;

const FORMATS: Record<string, { ext: string; contentType: string }> = {
  jpeg: { ext: 'jpg', contentType: 'image/jpeg' },
  png: { ext: 'png', contentType: 'image/png' },
  gif: { ext: 'gif', contentType: 'image/gif' },
  webp: { ext: 'webp', contentType: 'image/webp' },
};

export const IMAGE_PATH = '/_kapibara/sharing/dn';
const IMAGE_URL = /\/_kapibara\/sharing\/dn\/([0-9A-Za-z]{24})\/kakaolink40_original\.(jpg|png|gif|webp)$/;

const tooLarge = () => new KakaoApiError(-602, `image size is too large. each image must be ${MAX_IMAGE_BYTES / 1024 / 1024}MB or smaller.`, 400);
const tooMany = () => new KakaoApiError(-606, `too many images. up to ${MAX_IMAGES} images can be uploaded at once.`, 400);
const unsupported = (what: string) => new KakaoApiError(-911, `unsupported image format: ${what}. send JPEG, PNG, GIF or WebP.`, 400);

export interface ImageInfo {
  url: string;
  content_type: string;
  length: number;
  width: number;
  height: number;
}

export interface ReceivedImage {
  name: string;
  bytes: Buffer;
}

/**
 * The multipart files of an upload (`file`, and `file[0]`…, `files`): every file is read to its
 * end even when it breaks a rule, so the client gets Kakao's error rather than a reset.
 */
export async function receiveImages(req: FastifyRequest): Promise<ReceivedImage[]> {
  if (!req.isMultipart()) throw invalidParam('file is required: send the image as multipart/form-data.');
  const files: ReceivedImage[] = [];
  let count = 0;
  let large = false;
  try {
    const parts = req.parts({ limits: { fileSize: MAX_IMAGE_BYTES }, throwFileSizeLimit: false } as Parameters<FastifyRequest['parts']>[0]);
    for await (const part of parts) {
      if (part.type !== 'file') continue;
      const wanted = part.fieldname.startsWith('file');
      if (wanted) count++;
      const keep = wanted && count <= MAX_IMAGES && !large;
      const chunks: Buffer[] = [];
      for await (const chunk of part.file) if (keep) chunks.push(chunk as Buffer);
      if (!wanted) continue;
      if (part.file.truncated) large = true;
      else if (keep) files.push({ name: part.filename || part.fieldname, bytes: Buffer.concat(chunks) });
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') large = true;
    else if (code === 'FST_FILES_LIMIT') count = Math.max(count, MAX_IMAGES + 1);
    else throw invalidParam(`invalid multipart body: ${(err as Error).message}`);
    req.raw.resume();
  }
  if (count > MAX_IMAGES) throw tooMany();
  if (large) throw tooLarge();
  if (count === 0) throw invalidParam('file is required: a multipart file field named "file".');
  return files;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function imageKey(): string {
  let out = '';
  for (let i = 0; i < 24; i++) out += BASE62[randomInt(62)];
  return out;
}

async function decode(image: ReceivedImage, appId: number, now: number): Promise<ImageRow> {
  if (image.bytes.length > MAX_IMAGE_BYTES) throw tooLarge();
  const sharp = await loadSharp();
  let meta;
  try {
    meta = await sharp(image.bytes, { failOn: 'error' }).metadata();
    // Reading the pixels proves the file is whole, not only its header.
    await sharp(image.bytes, { failOn: 'error' }).stats();
  } catch {
    throw unsupported(`${image.name} is not an image that can be decoded`);
  }
  const format = meta.format && FORMATS[meta.format];
  if (!format || !meta.width || !meta.height) throw unsupported(`${image.name} is ${meta.format ?? 'unknown'}`);
  const oriented = meta.autoOrient ?? { width: meta.width, height: meta.height };
  return {
    key: imageKey(),
    app_id: appId,
    content_type: format.contentType,
    ext: format.ext,
    length: image.bytes.length,
    width: oriented.width,
    height: oriented.height,
    bytes: image.bytes,
    created_at: now,
    expires_at: now + KEEP_MS,
  };
}

function info(origin: string, row: ImageRow): ImageInfo {
  return {
    url: `${origin}${IMAGE_PATH}/${row.key}/kakaolink40_original.${row.ext}`,
    content_type: row.content_type,
    length: Number(row.length),
    width: Number(row.width),
    height: Number(row.height),
  };
}

/** POST /v2/api/talk/message/image/upload: every file is stored; the answer describes the first. */
export async function uploadImages(call: AppCall, images: ReceivedImage[]): Promise<{ infos: { original: ImageInfo } }> {
  const now = call.platform.clock.now();
  const rows: ImageRow[] = [];
  for (const image of images) rows.push(await decode(image, call.app.id, now));
  await insertImages(call.platform.db, rows);
  return { infos: { original: info(call.origin, rows[0]) } };
}

/** POST /v2/api/talk/message/image/scrap: fetched from the app's web domains only (the shared fetcher's policy). */
export async function scrapImage(call: AppCall, imageUrl: string): Promise<{ infos: { original: ImageInfo } }> {
  let fetched;
  try {
    fetched = await fetchBytes(imageUrl, call.app.webDomains, { maxBytes: MAX_IMAGE_BYTES, timeoutMs: SCRAP_TIMEOUT_MS }, 'image/*');
  } catch (err) {
    if (!(err instanceof FetchRefused)) throw err;
    if (err.reason === 'too_large') throw tooLarge();
    if (err.reason === 'timeout') throw new KakaoApiError(-603, `image scrap timeout: ${err.message}.`, 400);
    if (err.reason === 'not_allowed' || err.reason === 'bad_url') throw invalidParam(`invalid image_url: ${err.message}.`);
    throw new KakaoApiError(-604, `image scrap failed: ${err.message}.`, 400);
  }
  const name = new URL(fetched.url).pathname.split('/').pop() || imageUrl;
  const now = call.platform.clock.now();
  const row = await decode({ name, bytes: Buffer.from(fetched.bytes) }, call.app.id, now);
  await insertImages(call.platform.db, [row]);
  return { infos: { original: info(call.origin, row) } };
}

/** DELETE /v2/api/talk/message/image/delete: only the app's own images, while they are kept. */
export async function removeImage(call: AppCall, imageUrl: string): Promise<void> {
  let path: string;
  try {
    path = new URL(imageUrl, call.origin).pathname;
  } catch {
    throw invalidParam(`invalid image_url: ${imageUrl} is not a URL.`);
  }
  const m = IMAGE_URL.exec(path);
  const removed = m ? await deleteImage(call.platform.db, call.app.id, m[1], call.platform.clock.now()) : false;
  if (!removed) throw invalidParam(`invalid image_url: ${imageUrl} is not an image this app uploaded (or it expired or was deleted).`);
}

/** The stored image for `/_kapibara/sharing/dn/<key>/<file>`, while it is kept. */
export async function servedImage(call: { platform: AppCall['platform'] }, key: string, file: string): Promise<ImageRow | undefined> {
  if (!/^[0-9A-Za-z]{24}$/.test(key)) return undefined;
  const row = await findImage(call.platform.db, key, call.platform.clock.now());
  return row && file === `kakaolink40_original.${row.ext}` ? row : undefined;
}
