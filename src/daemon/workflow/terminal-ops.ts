/**
 * The terminal operations a workflow needs: the TerminalDriver's methods, named structurally so
 * the workflow can be read (and tested) without the session underneath.
 */
import type { Secret } from '../secret.js';

export interface HelloInfo {
  proto: number;
  model: string;
  sn: string;
  fw: string;
  state: 'factory' | 'initialized';
  caps: string[];
}

export interface StatusInfo {
  state: 'factory' | 'initialized';
  login: string;
  mustChange: boolean;
  locked: boolean;
  attemptsLeft?: number;
  tamper: boolean;
  factoryPw: string[];
  merchant?: string;
  terminal?: string;
  name?: string;
}

export interface OperatorInfo {
  id: string;
  name: string;
  perms: string[];
  mustChange: boolean;
}

export interface DiagCheckResult {
  check: string;
  status: 'pass' | 'warn' | 'fail';
  code?: string;
  hint?: string;
  ms?: number;
}

export interface DiagOutcome {
  results: DiagCheckResult[];
  pass: number;
  warn: number;
  fail: number;
}

export interface TerminalOps {
  hello(): Promise<HelloInfo>;
  status(): Promise<StatusInfo>;
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
  userList(): Promise<OperatorInfo[]>;
  diag(checks?: string[], onCheck?: (result: DiagCheckResult) => void): Promise<DiagOutcome>;
}
