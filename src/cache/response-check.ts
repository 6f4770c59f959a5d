/**
 * Catches what servers send instead of model files, before a byte of it is stored: error statuses,
 * an HTML page (a login wall, a CDN error, a SPA fallback route answering 200 for every path), a
 * JSON file that is not JSON, a safetensors file without a safetensors header.
 */
import { GptError } from '../errors.ts';

/** Throws GptError for a response that is not the file (status, HTML Content-Type). */
export function checkResponse(res: Response, url: string, name: string): void {
  if (res.status === 404 || res.status === 410) {
    throw new GptError('file-missing', `${url}: HTTP ${res.status} for ${name}. HINT: check that the model URL points at the model folder (for Hugging Face: https://huggingface.co/<org>/<model>/resolve/main/).`);
  }
  if (res.status === 401 || res.status === 403) {
    throw new GptError('network', `${url}: HTTP ${res.status} for ${name}: the server wants credentials. HINT: gated models must be copied to a server of your own; gpt-chat sends no tokens.`);
  }
  if (!res.ok) {
    throw new GptError('network', `${url}: HTTP ${res.status} ${res.statusText} while downloading ${name}. HINT: the server failed; try again later (stored chunks are kept and the download resumes).`);
  }
  const type = (res.headers.get('content-type') ?? '').toLowerCase();
  if (type.startsWith('text/html') || type.startsWith('application/xhtml')) {
    throw new GptError('network', `${url}: the server answered ${name} with an HTML page (Content-Type ${type}) instead of the file. HINT: the URL probably leads to a web page or an error page; use the raw file URL (Hugging Face: /resolve/main/, not /blob/main/).`);
  }
}

const decoder = new TextDecoder();

/**
 * Checks the first bytes of a file against what its name promises. Throws GptError 'network' for an
 * HTML document, a .json file that does not start like JSON, a .safetensors file whose 8-byte
 * header length and '{' are not there.
 */
export function checkFirstBytes(bytes: Uint8Array, size: number | null, url: string, name: string): void {
  const head = decoder.decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  const bad = (what: string) =>
    new GptError('network', `${url}: ${name} is not a model file: ${what}. Nothing was stored. HINT: check the URL; the server may be returning an error or login page.`);
  if (head.startsWith('<!doctype') || head.startsWith('<html') || head.startsWith('<?xml') || head.startsWith('<head')) {
    throw bad('it starts like an HTML/XML document');
  }
  if (name.endsWith('.json') && !(head.startsWith('{') || head.startsWith('['))) {
    throw bad(`it does not start with '{' or '[' (it starts with ${JSON.stringify(head.slice(0, 20))})`);
  }
  if (/\.gguf$/i.test(name) && decoder.decode(bytes.subarray(0, 4)) !== 'GGUF') {
    throw bad(`it does not start with the GGUF magic (it starts with ${JSON.stringify(decoder.decode(bytes.subarray(0, 4)))})`);
  }
  if (name.endsWith('.safetensors')) {
    if (bytes.length < 9) throw bad(`only ${bytes.length} bytes, a safetensors file has an 8-byte header length and a JSON header`);
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (headerLength < 2n || (size !== null && headerLength > BigInt(size - 8))) {
      throw bad(`its header length ${headerLength} does not fit a ${size ?? '?'}-byte file`);
    }
    if (bytes[8] !== 0x7b) throw bad("the safetensors JSON header does not start with '{'");
  }
}
