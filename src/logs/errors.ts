/** A signature or fingerprint of an advisory that cannot be compiled (bad regex, empty prefilter). */
export class SignatureCompileError extends Error {
  override readonly name = "SignatureCompileError";
  readonly advisoryId: string;
  readonly signatureId: string;
  /** Which part was wrong, e.g. "any[1]" or "prefilter". */
  readonly field: string;

  constructor(advisoryId: string, signatureId: string, field: string, reason: string) {
    super(`advisory ${advisoryId}, signature ${signatureId}: ${field}: ${reason}`);
    this.advisoryId = advisoryId;
    this.signatureId = signatureId;
    this.field = field;
  }
}
