/**
 * A resident's photo, made safe to keep and publish (issue 12): the type is read from the bytes (sharp
 * decodes the header: what the client declared is never asked), only JPEG, PNG and WebP are taken, the
 * pixel count is bounded (a decompression bomb is refused before it is decoded), and the picture is
 * re-encoded as a new JPEG. sharp writes no metadata unless asked to (no withMetadata/withExif here), so
 * EXIF, GPS, XMP, IPTC and comments are dropped; the EXIF orientation is applied to the pixels first, so
 * the picture still stands the right way up. Tested in test/photo.test.ts with a JPEG carrying GPS EXIF.
 */
import { err, ok, type Result } from '@cnx/domain';
import { MAX_PHOTO_BYTES } from '@cnx/protocol';
import sharp from 'sharp';

/** Formats taken, as sharp names them after reading the bytes. */
export const PHOTO_FORMATS = ['jpeg', 'png', 'webp'] as const;
/** Longer side of the stored photo, pixels: enough to see smoke or a flooded street on any screen. */
export const PHOTO_MAX_SIDE = 1600;
/** Largest input picture, pixels (a 48 MP phone camera; sharp's default would allow 268 MP). */
export const PHOTO_MAX_PIXELS = 50_000_000;
const JPEG_QUALITY = 80;

export type PhotoError = { code: 'photo_too_large'; message: string } | { code: 'photo_unsupported'; message: string };

export interface SafePhoto {
  jpeg: Buffer;
  width: number;
  height: number;
  /** What the bytes were (jpeg, png, webp). */
  source: (typeof PHOTO_FORMATS)[number];
}

/** Base64 (as the report request carries it) to a re-encoded JPEG without metadata, or why not. */
export async function safePhoto(base64: string): Promise<Result<SafePhoto, PhotoError>> {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length > MAX_PHOTO_BYTES)
    return err({ code: 'photo_too_large', message: `the photo is ${bytes.length} bytes; at most ${MAX_PHOTO_BYTES}` });
  if (bytes.length === 0) return err({ code: 'photo_unsupported', message: 'the photo is empty or not base64' });
  let format: string | undefined;
  let pixels = 0;
  try {
    const meta = await sharp(bytes, { limitInputPixels: PHOTO_MAX_PIXELS }).metadata();
    format = meta.format;
    pixels = (meta.width ?? 0) * (meta.height ?? 0);
  } catch {
    return err({ code: 'photo_unsupported', message: 'the photo is not an image this server can read' });
  }
  if (!format || !(PHOTO_FORMATS as readonly string[]).includes(format))
    return err({ code: 'photo_unsupported', message: `the photo is ${format ?? 'unknown'}: JPEG, PNG or WebP only` });
  if (pixels > PHOTO_MAX_PIXELS)
    return err({ code: 'photo_too_large', message: `the photo has ${pixels} pixels; at most ${PHOTO_MAX_PIXELS}` });
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: PHOTO_MAX_PIXELS, pages: 1 })
      .rotate() // apply the EXIF orientation to the pixels; the tag itself is not written
      .resize({ width: PHOTO_MAX_SIDE, height: PHOTO_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' }) // PNG/WebP transparency on white: JPEG has no alpha
      .jpeg({ quality: JPEG_QUALITY, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    return ok({ jpeg: data, width: info.width, height: info.height, source: format as SafePhoto['source'] });
  } catch {
    return err({ code: 'photo_unsupported', message: 'the photo could not be decoded (truncated or damaged?)' });
  }
}
