/**
 * A configuration a netdev class refused: the errno, and as message the text
 * OVS puts in Interface.error ("vxlanbad: vxlan type requires valid
 * 'remote_ip' argument", or "NAME: could not set configuration (ERR)" when
 * the class gave none).
 */
export class NetdevConfigError extends Error {
  override readonly name = 'NetdevConfigError';
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}
