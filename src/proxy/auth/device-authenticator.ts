/**
 * Who a connection belongs to. The proxy accepts no connection without one ("no open proxy",
 * DESIGN.md "Who may do what").
 */
export interface DeviceIdentity {
  /** The user's id: the e-mail address they registered with. */
  uid: string;
  /** The device's name within the user's namespace, e.g. `phone`. */
  device: string;
  /** `<device>.<uid>`, globally unique. */
  did: string;
}

/**
 * The one interface through which the proxy checks device credentials and looks up a user's
 * devices. `--users FILE` and `--nameserver URL` are two implementations of it.
 */
export interface DeviceAuthenticator {
  /** Resolves the identity when `token` is the current token of `did`, otherwise `null`. */
  authenticate(did: string, token: string): Promise<DeviceIdentity | null>;
  /**
   * Resolves a device of user `uid` given its name (`pc`) or its DID (`pc.bob@example.org`);
   * `null` when the user has no such device. Never resolves another user's device.
   */
  resolveDevice(uid: string, nameOrDid: string): Promise<DeviceIdentity | null>;
  close?(): Promise<void>;
}

/** Splits a DID into device name and uid: the device name is everything before the first dot. */
export function parseDid(did: string): { device: string; uid: string } | null {
  const dot = did.indexOf('.');
  if (dot <= 0 || dot === did.length - 1) return null;
  const device = did.slice(0, dot);
  const uid = did.slice(dot + 1);
  if (!uid.includes('@')) return null;
  return { device, uid };
}

export function makeDid(device: string, uid: string): string {
  return `${device}.${uid}`;
}
