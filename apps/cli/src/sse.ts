// A Server-Sent Events reader over a fetch response body (the WHATWG event-stream format: `field: value` lines,
// a blank line ends an event, lines starting with ':' are comments; lines end with LF, CRLF or CR).

export interface ServerEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/** The events of `body` in order; ends when the server closes the stream (an unfinished event is dropped). */
export async function* readServerEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;

  /** Complete lines of the buffer; a trailing CR may be half of a CRLF split across chunks unless `final`. */
  function* takeLines(final: boolean): Generator<string> {
    for (;;) {
      const end = buffer.search(/\r\n|\r|\n/);
      if (end === -1 || (!final && end === buffer.length - 1 && buffer.endsWith('\r'))) return;
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
    }
  }

  function* interpret(line: string): Generator<ServerEvent> {
    if (line === '') {
      if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id };
      event = '';
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }

  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of takeLines(false)) yield* interpret(line);
  }
  buffer += decoder.decode();
  for (const line of takeLines(true)) yield* interpret(line);
}
