/** The shapes discovery deals in: a listed port, a candidate and why, an ignored port, a change. */

/** One listed port, as listPorts() (ListedPort) or SerialPort.list() (PortInfo) report it. */
export interface DiscoveredPortInfo {
  path: string;
  /** The /dev/serial/by-id/ path (ListedPort). */
  byId?: string | undefined;
  /** The by-id entry name (PortInfo on Linux); used when byId is absent. */
  pnpId?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
}

export type DiscoveryLister = () => Promise<readonly DiscoveredPortInfo[]>;

export interface UsbInfo {
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  manufacturer?: string;
}

/** Why the daemon may send bytes to a port. */
export type CandidateReason =
  /** Its USB vendor[:product] ID is on the allow-list. */
  | 'allowed'
  /** The user named it (config `ports`, `--port`, or a lease). */
  | 'named'
  /** It matches a pattern of config `ports`. */
  | 'pattern';

export interface PortCandidate {
  /** The name to open: as configured (named, pattern) or as listed (allowed). */
  port: string;
  reason: CandidateReason;
  byId?: string;
  usb?: UsbInfo;
  /** The allow-list entry's label (allowed ports). */
  label?: string;
  /** The device node the name resolves to (device paths). */
  device?: string;
}

/** A listed port that will not receive a byte. */
export interface IgnoredPort {
  path: string;
  byId?: string;
  usb?: UsbInfo;
  reason: string;
}

export type DiscoveryChange =
  | { type: 'appeared'; candidate: PortCandidate }
  | { type: 'disappeared'; candidate: PortCandidate }
  /**
   * The same port on the same device, with details a later listing gave (USB IDs, by-id name):
   * a port announced from its directory before udev's listing (discovery.ts) gains them.
   */
  | { type: 'updated'; candidate: PortCandidate };

/** What the port manager needs of a discovery (Discovery, or a test's stand-in). */
export interface DiscoverySource {
  start(): Promise<void>;
  candidates(): PortCandidate[];
  /** True while `port` is a candidate. */
  has(port: string): boolean;
  onChange(listener: (change: DiscoveryChange) => void): () => void;
  close(): Promise<void>;
}

export interface DiscoveryFs {
  /** Resolves symlinks; rejects when the path (or its target) does not exist. */
  realpath(path: string): Promise<string>;
  readdir(dir: string): Promise<string[]>;
}
