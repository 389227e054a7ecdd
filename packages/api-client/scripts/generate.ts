/** `npm run generate -w @cnx/api-client`: rewrites src/generated/openapi.ts from the API's document. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { GENERATED_FILE, loadApiDocument, renderClientTypes } from './openapi';

const text = await renderClientTypes(await loadApiDocument());
const before = await readFile(GENERATED_FILE, 'utf8').catch(() => '');
await mkdir(dirname(GENERATED_FILE), { recursive: true });
await writeFile(GENERATED_FILE, text);
console.log(`${relative(process.cwd(), GENERATED_FILE)}: ${before === text ? 'unchanged' : 'updated'}`);
