/** A search expression that cannot be parsed or refers to something that does not exist. */
export class SearchSyntaxError extends Error {
  /** 1-based character position, as an editor shows it. */
  readonly position: number;

  constructor(
    offset: number,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`at character ${offset + 1}: expected ${expected}, found ${found}`);
    this.name = 'SearchSyntaxError';
    this.position = offset + 1;
  }
}
