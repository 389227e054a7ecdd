/**
 * Staff authentication, shared by the staff route groups (alerts and reports): `Authorization: Bearer
 * <token>` checked against every member of ALERTS_STAFF_FILE in constant time (digests, so the token
 * length does not leak either), in onRequest so an unauthenticated request is refused before its body is
 * read. `staff_not_configured` tells the API (and an operator) that no staff are listed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StaffMember } from '../config';
import { AlertsError } from '../errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Adds the check to `app` (one plugin's scope); returns who made a request. */
export function staffAuth(app: FastifyInstance, staff: readonly StaffMember[]): (req: FastifyRequest) => StaffMember {
  const keys = staff.map((s) => ({ s, d: digest(s.token) }));
  const who = new WeakMap<FastifyRequest, StaffMember>();
  app.addHook('onRequest', async (req, reply) => {
    const auth = req.headers.authorization;
    let found: StaffMember | undefined;
    if (typeof auth === 'string' && /^Bearer /i.test(auth)) {
      const d = digest(auth.slice(7).trim());
      for (const k of keys) if (timingSafeEqual(k.d, d)) found = k.s;
    }
    if (!found)
      throw new AlertsError(keys.length ? 'unauthorized' : 'staff_not_configured', undefined, undefined, {
        'www-authenticate': 'Bearer realm="cnx-staff"',
      });
    who.set(req, found);
    reply.header('cache-control', 'no-store');
  });
  return (req) => who.get(req)!;
}
