export interface Migration {
  /** Consecutive from 1; stored in SQLite's user_version once applied. */
  version: number;
  name: string;
  sql: string;
}
