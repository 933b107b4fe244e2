/**
 * The terminal operations a workflow needs: the TerminalDriver's methods, named structurally so
 * the workflow can be read (and tested) without the session underneath.
 */
import type { DiagResult, DiagSummary, Hello, Operator, TerminalStatus } from '../driver.js';
import type { Secret } from '../secret.js';

// The driver's reply types, under the names the workflow reads them by.
export type {
  DiagResult as DiagCheckResult,
  DiagSummary as DiagOutcome,
  Hello as HelloInfo,
  Operator as OperatorInfo,
  TerminalStatus as StatusInfo,
} from '../driver.js';

export interface TerminalOps {
  hello(): Promise<Hello>;
  status(): Promise<TerminalStatus>;
  login(user: string, password: Secret): Promise<{ user: string; mustChange: boolean }>;
  logout(): Promise<void>;
  passwd(args: { user?: string; old?: Secret; new: Secret }): Promise<void>;
  init(args: {
    merchant: string;
    terminal: string;
    name?: string;
  }): Promise<{ state: string; changed: boolean }>;
  get(key: string): Promise<string>;
  set(key: string, value: string | Secret): Promise<string>;
  time(utc?: Date): Promise<Date>;
  userAdd(args: { id: string; name: string; perms: string[]; password: Secret }): Promise<void>;
  userSet(args: { id: string; name?: string; perms?: string[] }): Promise<void>;
  userDel(id: string): Promise<void>;
  userList(): Promise<Operator[]>;
  diag(checks?: string[], onCheck?: (result: DiagResult) => void): Promise<DiagSummary>;
}
