/**
 * A resident's photo is made safe before it is kept (src/reports/photo.ts): the type comes from the
 * bytes, only JPEG/PNG/WebP pass, and the re-encoded JPEG carries no metadata. The fixture is a real
 * JPEG written by sharp with GPS EXIF, read back (sharp, exif-reader) to prove the GPS is there before
 * and gone after.
 */
import { MAX_PHOTO_BYTES } from '@cnx/protocol';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PHOTO_MAX_SIDE, safePhoto } from '../src/reports/photo';

const GPS = {
  // Latitude 18°47'N, longitude 98°59'E: a doorstep in the city, as a phone camera writes it.
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '18/1 47/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '98/1 59/1 0/1' },
  IFD0: { Make: 'PhoneMaker', Model: 'Phone 12', Copyright: 'Somchai' },
};

async function jpegWithGps(width = 3000, height = 2000): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 120, g: 120, b: 130 } } })
    .jpeg()
    .withExif(GPS)
    .toBuffer();
}

describe('report photos', () => {
  it('re-encodes a JPEG with GPS EXIF into one without any metadata, at most 1600 px', async () => {
    const input = await jpegWithGps();
    const before = await sharp(input).metadata();
    // The fixture really carries the position (read with exif-reader, a maintained EXIF parser).
    expect(exifReader(before.exif!).GPSInfo).toMatchObject({ GPSLatitude: [18, 47, 0], GPSLongitudeRef: 'E' });
    expect(before.exif!.toString('latin1')).toContain('PhoneMaker');

    const out = await safePhoto(input.toString('base64'));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    const after = await sharp(out.value.jpeg).metadata();
    expect(after.format).toBe('jpeg');
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(after.iptc).toBeUndefined();
    expect(after.icc).toBeUndefined();
    expect(Math.max(after.width!, after.height!)).toBe(PHOTO_MAX_SIDE);
    // No trace of the camera's tags in the bytes either.
    const text = out.value.jpeg.toString('latin1');
    expect(text).not.toContain('PhoneMaker');
    expect(text).not.toContain('Exif');
    expect(out.value.source).toBe('jpeg');
  });

  it('takes PNG and WebP by their bytes and refuses what is not an image of those types', async () => {
    const img = sharp({ create: { width: 40, height: 30, channels: 4, background: '#ff000080' } });
    const png = await img.clone().png().toBuffer();
    const webp = await img.clone().webp().toBuffer();
    const gif = await img.clone().gif().toBuffer();
    expect(await safePhoto(png.toString('base64'))).toMatchObject({ ok: true, value: { source: 'png', width: 40 } });
    expect(await safePhoto(webp.toString('base64'))).toMatchObject({ ok: true, value: { source: 'webp' } });
    // A GIF is an image, but not one of the three: refused by what its bytes are.
    expect(await safePhoto(gif.toString('base64'))).toMatchObject({
      ok: false,
      error: { code: 'photo_unsupported', message: expect.stringContaining('gif') },
    });
    // HTML that a client called image/jpeg: the declared type is never asked.
    const html = Buffer.from('<html><script>alert(1)</script></html>').toString('base64');
    expect(await safePhoto(html)).toMatchObject({ ok: false, error: { code: 'photo_unsupported' } });
    // A JPEG cut in half decodes to nothing usable.
    const jpeg = await jpegWithGps(200, 100);
    const cut = jpeg.subarray(0, 120).toString('base64');
    expect(await safePhoto(cut)).toMatchObject({ ok: false, error: { code: 'photo_unsupported' } });
  });

  it('refuses a photo over the size limit before decoding it', async () => {
    const big = Buffer.alloc(MAX_PHOTO_BYTES + 1, 0xff).toString('base64');
    expect(await safePhoto(big)).toMatchObject({ ok: false, error: { code: 'photo_too_large' } });
  });
});
