// A Server-Sent Events reader over a fetch response body (the WHATWG event-stream format: `field: value` lines,
// a blank line ends an event, lines starting with ':' are comments).

export interface ServerEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/** The events of `body` in order; ends when the server closes the stream. */
export async function* readServerEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (;;) {
      const newline = buffer.search(/\r\n|\r|\n/);
      // A trailing CR may be the first half of a CRLF split across chunks: wait for the next chunk.
      if (newline === -1 || (newline === buffer.length - 1 && buffer.endsWith('\r'))) break;
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
  }
}
