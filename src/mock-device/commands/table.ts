/** One handler per TSP/1 verb: adding a command touches src/protocol/commands.ts and this table. */
import type { Verb } from '../../protocol/index.js';
import type { CommandHandler } from './context.js';
import { diag } from './diag.js';
import { hello } from './hello.js';
import { init } from './init.js';
import { reboot, reset } from './lifecycle.js';
import { login, logout } from './login.js';
import { passwd } from './passwd.js';
import { get, set } from './settings.js';
import { status } from './status.js';
import { time } from './time.js';
import { userAdd, userDel, userList, userSet } from './users.js';

export const COMMAND_HANDLERS: Record<Verb, CommandHandler> = {
  HELLO: hello,
  STATUS: status,
  LOGIN: login,
  LOGOUT: logout,
  PASSWD: passwd,
  INIT: init,
  GET: get,
  SET: set,
  TIME: time,
  'USER-ADD': userAdd,
  'USER-SET': userSet,
  'USER-DEL': userDel,
  'USER-LIST': userList,
  DIAG: diag,
  REBOOT: reboot,
  RESET: reset,
};
