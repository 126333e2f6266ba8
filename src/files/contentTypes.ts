/**
 * What a stored file is served as. The declared type is a hint only: the first bytes decide, and
 * only types a browser will not run script from are ever served as themselves. Everything else —
 * HTML, SVG, XML, JavaScript, unknown binaries — is `application/octet-stream`.
 */
const SIGNATURES: { type: string; test: (b: Uint8Array) => boolean }[] = [
  { type: "image/png", test: (b) => starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: "image/jpeg", test: (b) => starts(b, [0xff, 0xd8, 0xff]) },
  { type: "image/gif", test: (b) => ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a") },
  { type: "image/webp", test: (b) => ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP") },
  { type: "application/pdf", test: (b) => ascii(b, 0, "%PDF-") },
  { type: "application/zip", test: (b) => starts(b, [0x50, 0x4b, 0x03, 0x04]) },
  { type: "application/gzip", test: (b) => starts(b, [0x1f, 0x8b]) },
  { type: "video/mp4", test: (b) => ascii(b, 4, "ftyp") },
  { type: "audio/mpeg", test: (b) => ascii(b, 0, "ID3") },
];

/** Zip containers that declare what they hold (Office documents). */
const ZIP_BASED = new Set([
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
]);

/** Plain-text types served as declared when the bytes are text; other text is text/plain. */
const TEXT_TYPES = new Set(["text/plain", "text/csv", "text/markdown", "application/json"]);

export const OCTET_STREAM = "application/octet-stream";

function starts(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

function ascii(bytes: Uint8Array, offset: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Text: valid UTF-8 without NUL or other control bytes (tabs and line breaks aside). */
function looksLikeText(head: Uint8Array): boolean {
  for (const byte of head)
    if (byte === 0 || (byte < 0x20 && byte !== 9 && byte !== 10 && byte !== 13)) return false;
  try {
    // The head may cut a multi-byte character: drop up to 3 trailing bytes before decoding.
    const end = Math.max(0, head.length - 3);
    new TextDecoder("utf-8", { fatal: true }).decode(head.subarray(0, head.length > 3 ? end : head.length));
    return true;
  } catch {
    return false;
  }
}

/** Markup a browser would render as a page: never served as text, even text/plain. */
function looksLikeMarkup(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head.subarray(0, 512)).trimStart().toLowerCase();
  return /^(<!doctype|<html|<svg|<\?xml|<script|<head|<body|<iframe)/.test(text);
}

/** The type a file is served as, from its first bytes (`head`, up to a few KiB) and its declared type. */
export function servedContentType(head: Uint8Array, declared: string | null | undefined): string {
  const hint = (declared ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const sniffed = SIGNATURES.find((signature) => signature.test(head))?.type;
  if (sniffed === "application/zip" && ZIP_BASED.has(hint)) return hint;
  if (sniffed) return sniffed;
  if (head.length > 0 && looksLikeText(head) && !looksLikeMarkup(head)) {
    return TEXT_TYPES.has(hint) ? hint : "text/plain";
  }
  if (head.length === 0 && TEXT_TYPES.has(hint)) return hint;
  return OCTET_STREAM;
}

/** How many leading bytes `servedContentType` wants. */
export const SNIFF_BYTES = 4096;
