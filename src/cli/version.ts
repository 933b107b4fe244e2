/** Kept in step with package.json by a test (reading package.json at start-up costs time). */
export const VERSION = '0.1.0';
