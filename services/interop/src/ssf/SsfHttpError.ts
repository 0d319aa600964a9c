/** An error the SSF endpoints answer with: HTTP status and a message (never credentials or bodies). */
export class SsfHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** RFC 8935/8936 error code, for the receiver and poll endpoints. */
    readonly err?: string,
  ) {
    super(message);
    this.name = 'SsfHttpError';
  }
}
