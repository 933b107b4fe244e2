/**
 * Where hot-plug events come from. The default is fs.watch (inotify on Linux) on a directory:
 * `/dev` sees `ttyUSB*` and `ttyACM*` appear and disappear (`/dev/serial/by-id` does not exist
 * while no device is plugged, so it cannot be watched itself). Injected, so tests simulate plugs.
 */
import { watch as fsWatch } from 'node:fs';

export interface DirectoryWatch {
  close(): void;
}

/**
 * Watches `dir`; `onChange` gets the name of an entry that changed (undefined when the platform
 * does not say which), `onError` a failure after the watch started. Throws if `dir` cannot be
 * watched (ENOENT, EACCES, out of inotify watches).
 */
export type WatchSource = (
  dir: string,
  onChange: (name: string | undefined) => void,
  onError: (error: Error) => void,
) => DirectoryWatch;

export const fsWatchSource: WatchSource = (dir, onChange, onError) => {
  // persistent: false, so a watch never keeps the process alive by itself.
  const watcher = fsWatch(dir, { persistent: false }, (_event, name) => onChange(name ?? undefined));
  watcher.on('error', onError);
  return { close: () => watcher.close() };
};

/** Device names in /dev that are USB serial ports: a change re-lists the ports. */
export const USB_SERIAL_NAME = /^tty(?:USB|ACM)\d+$/;
