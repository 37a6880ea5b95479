// Loaded with --import before the vitalwire command: any module resolved to a .ts file or into tsx fails the
// process. What a user starts must run compiled JavaScript only (test/cli.test.ts).
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/\\.[cm]?ts$/.test(r.url) || r.url.includes('/node_modules/tsx/')) throw new Error('TypeScript loaded at run time: ' + r.url);
  return r;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
