// What an API team adds to its GraphQL server for gqlauth (the seed's
// contract): HS256 tokens with sub, iat, exp and jti; the user of an
// "Authorization: Bearer <jwt>" header; a fresh token in X-Authorization and
// Authorization on every authenticated answer. apollo.mjs and yoga.mjs wire
// these into their server's hooks.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

// Without JWT_SECRET every process draws its own key, so a restart refuses
// the tokens of the one before (as a key rotation would).
const secret = process.env.JWT_SECRET
  ? new TextEncoder().encode(process.env.JWT_SECRET)
  : randomBytes(32);
const ttlSeconds = Number(process.env.TOKEN_TTL_SECONDS || 60 * 60);

// The accounts: the reference API's demo user.
const users = [{ id: '1', username: 'demo', email: 'demo@example.com', password: 'demo-password' }];

/** Signs a new token for user. */
export function issueToken(user) {
  return new SignJWT()
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user.id)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(secret);
}

/** The user of an Authorization header ("Bearer <jwt>"), or null when its token is missing or not valid. */
export async function userFromAuthorization(header) {
  const token = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp', 'jti'] });
    return users.find((u) => u.id === payload.sub) ?? null;
  } catch {
    return null;
  }
}

/** Puts token in both token headers, as the seed says: X-Authorization, and the deprecated Authorization. */
export function setTokenHeaders(headers, token) {
  headers.set('X-Authorization', `Bearer ${token}`);
  headers.set('Authorization', `Bearer ${token}`);
}

const digest = (s) => createHash('sha256').update(String(s)).digest();

/** The user named by username or email (both given: the same user) whose password matches, or null. */
export function checkCredentials({ username, email, password }) {
  if (!username && !email) return null;
  const user = users.find((u) => (!username || u.username === username) &&
    (!email || u.email.toLowerCase() === email.toLowerCase()));
  // Compare even without a user, so the time taken does not tell who exists.
  const ok = timingSafeEqual(digest(password), digest(user?.password ?? '\0no user'));
  return ok && user ? user : null;
}
