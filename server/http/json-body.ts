import coBody from 'co-body';
import type { Context, Next } from 'koa';
import { PayloadTooLargeError, ValidationError } from '../errors.ts';

/**
 * Parses JSON request bodies, refusing before parsing one with more object properties than any
 * request needs. Parsing is the costly part of a large body: 200,000 tiny variables in 3 MB
 * hold the event loop for hundreds of milliseconds while a 3 MB string parses at once. Every
 * property needs a colon, so the colons of the text (one native scan) bound its properties:
 * more than `maxProperties` colons is refused unparsed, with 400. Other bodies pass on to the
 * general body parser (app.ts), which skips a body read here.
 */
export function jsonBodyParser({ limitBytes, maxProperties }: { limitBytes: number; maxProperties: number }) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!ctx.request.is('json', '+json') || ctx.request.body !== undefined) return next();
    let text: string;
    try {
      text = await coBody.text(ctx, { limit: limitBytes, encoding: 'utf-8' });
    } catch (err) {
      if ((err as { status?: number }).status === 413) throw new PayloadTooLargeError(limitBytes);
      throw new ValidationError(`malformed body: ${(err as Error).message}`);
    }
    const colons = countOf(text, ':', maxProperties + 1);
    if (colons > maxProperties) {
      throw new ValidationError(`the body holds more than ${maxProperties} properties, more than any request needs`, [{ path: 'body', message: `more than ${maxProperties} properties` }]);
    }
    const trimmed = text.trim();
    if (trimmed && !/^[[{]/.test(trimmed)) throw new ValidationError('malformed body: a JSON body must be an object or an array');
    try {
      (ctx.request as unknown as { body: unknown }).body = trimmed ? JSON.parse(trimmed) : {};
    } catch (err) {
      throw new ValidationError(`malformed body: ${(err as Error).message}`);
    }
    return next();
  };
}

/** How often `needle` occurs in `text`, counting no further than `stop`. */
function countOf(text: string, needle: string, stop: number): number {
  let found = 0;
  for (let at = text.indexOf(needle); at >= 0 && found < stop; at = text.indexOf(needle, at + 1)) found++;
  return found;
}
