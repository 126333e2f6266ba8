/**
 * A change's origin: a label the writer gives its writes (the `X-Plugboard-Origin` header, or a
 * mutation's `origin` argument), stored on their changes so a connector that writes and also
 * triggers can leave out its own changes. Printable ASCII, 1 to 200 characters.
 */
export function isValidOrigin(value: string): boolean {
  return value.length >= 1 && value.length <= 200 && /^[\x20-\x7e]+$/.test(value);
}
